/**
 * The reducer: the only way a record changes. Every log the fault suite
 * produced with the code that still edited records by hand (kept in
 * fixtures/fault-suite-logs.json) reduces to the record that code produced.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnalysisEventPayload } from '../../src/analyses/events.js';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { newRecord } from '../../src/analyses/record.js';
import { CANCELLED_ERROR, reduce, reduceAll } from '../../src/analyses/reduce.js';
import { replay } from '../support/replay.js';

interface OldLog {
  name: string;
  record: AnalysisRecord;
  /** `[type, data, timestamp]`, deltas left out (they change no record); completion data is only `{ result }`. */
  events: [string, Record<string, unknown>, string][];
}

const logs = JSON.parse(
  readFileSync(new URL('./fixtures/fault-suite-logs.json', import.meta.url), 'utf8'),
) as OldLog[];

/** The old code stamped a stage's times a moment before its event: equal to within a few milliseconds. */
function sameTimes(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'string' && /^\d{4}-\d\d-\d\dT/.test(expected)) {
    expect(typeof actual, path).toBe('string');
    expect(Math.abs(Date.parse(actual as string) - Date.parse(expected)), path).toBeLessThanOrEqual(25);
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', path).toBe(true);
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual as object)]);
    for (const key of keys) {
      sameTimes(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        `${path}/${key}`,
      );
    }
    return;
  }
  expect(actual, path).toEqual(expected);
}

/**
 * What the old log cannot show: a final failure's latency (its event lacked
 * `latencyMs`), and responses refused by the cost limit before any call
 * (the old code wrote them into the record without an event; events now say so).
 * Records from before webhooks existed have none.
 */
function comparable(record: AnalysisRecord, events: OldLog['events']): AnalysisRecord {
  const failedWithLatency = events.some(([type, data]) => type === 'model.failed' && 'latencyMs' in data);
  return {
    ...record,
    // Those records predate webhooks: none of them had one.
    webhook: record.webhook ?? null,
    stages: record.stages.map((stage) => ({
      ...stage,
      responses: stage.responses
        .filter((response) => !(response.error?.code === 'budget_exceeded' && response.attempts === 0))
        .map((response) =>
          response.status === 'failed' && !failedWithLatency ? { ...response, latencyMs: 0 } : response,
        ),
    })),
  };
}

describe('the old logs reduce to the old records', () => {
  it('covers every outcome the fault suite produced', () => {
    expect(logs.length).toBeGreaterThanOrEqual(50);
    expect(new Set(logs.map((log) => log.record.status))).toEqual(new Set(['succeeded', 'failed']));
  });

  it.each(logs.map((log) => [log.name, log] as const))('%s', (_name, log) => {
    const events = log.events.map(([event, data, timestamp]) => ({
      event,
      data: { analysisId: log.record.id, timestamp, ...data },
    }));
    sameTimes(replay(log.record, events), comparable(log.record, log.events));
  });
});

const pattern = {
  name: 'standard',
  stages: [
    { name: 'initial', mode: 'each' as const },
    { name: 'meta', mode: 'each' as const },
    { name: 'synthesis', mode: 'one' as const },
  ],
};
const accepted = () =>
  newRecord({
    id: 'an_test',
    pattern,
    models: ['p/a', 'p/b'],
    synthesisModel: 'p/a',
    warnings: [],
    metadata: {},
    messages: [{ role: 'user', content: 'Q?' }],
    parentId: null,
    createdAt: 1_000,
    links: { self: '/v1/analyses/an_test', events: '/v1/analyses/an_test/events' },
  });
const context = { ttlSeconds: 60 };
const completed = (stage: string, model: string, costUsd = 0): AnalysisEventPayload => ({
  type: 'model.completed',
  data: {
    stage,
    model,
    text: `${model} on ${stage}`,
    latencyMs: 5,
    usage: { inputTokens: 2, outputTokens: 3 },
    cached: false,
    attempts: 1,
    costUsd,
  },
});
const at = (events: AnalysisEventPayload[]) => events.map((event, index) => ({ event, at: 2_000 + index }));

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('reduce', () => {
  it('never changes the record it is given, and returns it as is for events that change nothing', () => {
    const record = deepFreeze(accepted());
    const delta: AnalysisEventPayload = {
      type: 'model.delta',
      data: { stage: 'initial', model: 'p/a', attempt: 1, text: 'x' },
    };
    expect(reduce(record, delta, 5, context)).toBe(record);
    const started = reduce(
      record,
      { type: 'stage.started', data: { stage: 'initial', index: 0, models: [] } },
      5,
      context,
    );
    expect(started).not.toBe(record);
    expect(record.stages[0]!.status).toBe('pending');
    expect(started.stages[0]).toMatchObject({ status: 'running', startedAt: new Date(5).toISOString() });
  });

  it('lists an each stage in the order of the models, and derives usage from the responses', () => {
    const record = reduceAll(
      accepted(),
      at([
        {
          type: 'analysis.started',
          data: { pattern: 'standard', models: ['p/a', 'p/b'], synthesisModel: 'p/a' },
        },
        { type: 'stage.started', data: { stage: 'initial', index: 0, models: ['p/a', 'p/b'] } },
        completed('initial', 'p/b', 0.5),
        completed('initial', 'p/a', 0.25),
      ]),
      context,
    );
    expect(record.stages[0]!.responses.map((response) => response.model)).toEqual(['p/a', 'p/b']);
    expect(record.usage).toEqual({ inputTokens: 4, outputTokens: 6, costUsd: 0.75 });
  });

  it('on resume, starts over the stage the stopped worker was in and keeps what it completed', () => {
    const before = reduceAll(
      accepted(),
      at([
        {
          type: 'analysis.started',
          data: { pattern: 'standard', models: ['p/a', 'p/b'], synthesisModel: 'p/a' },
        },
        { type: 'stage.started', data: { stage: 'initial', index: 0, models: ['p/a', 'p/b'] } },
        completed('initial', 'p/a', 1),
        completed('initial', 'p/b', 1),
        {
          type: 'stage.completed',
          data: { stage: 'initial', index: 0, succeeded: 2, failed: 0, status: 'succeeded', reason: null },
        },
        { type: 'stage.started', data: { stage: 'meta', index: 1, models: ['p/a', 'p/b'] } },
        completed('meta', 'p/a', 1),
      ]),
      context,
    );
    expect(before.usage.costUsd).toBe(3);
    const resumed = reduce(
      before,
      { type: 'analysis.resumed', data: { fromStage: 'meta', reason: 'r' } },
      9_000,
      context,
    );
    expect(resumed.stages.map((stage) => stage.status)).toEqual(['succeeded', 'pending', 'pending']);
    expect(resumed.stages[1]!.responses).toEqual([]);
    expect(resumed.usage.costUsd).toBe(2);
    expect(resumed.status).toBe('running');
  });

  it('ends once: times, expiry, failed running stages and the final progress come from the terminal event', () => {
    const running = reduceAll(
      accepted(),
      at([
        {
          type: 'analysis.started',
          data: { pattern: 'standard', models: ['p/a', 'p/b'], synthesisModel: 'p/a' },
        },
        { type: 'stage.started', data: { stage: 'initial', index: 0, models: ['p/a', 'p/b'] } },
        { type: 'progress', data: { stage: 'initial', progress: 0.25, message: 'm', details: {} } },
      ]),
      context,
    );
    const cancelled = reduce(running, { type: 'analysis.cancelled', data: {} }, 10_000, context);
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      error: CANCELLED_ERROR,
      completedAt: new Date(10_000).toISOString(),
      expiresAt: new Date(70_000).toISOString(),
      progress: { stage: 'initial', progress: 0.25, message: 'Analysis cancelled.' },
    });
    expect(cancelled.stages[0]).toMatchObject({ status: 'failed', reason: CANCELLED_ERROR.message });
    const result = { text: 't', model: 'p/a', fallbackFrom: null, degraded: false };
    const done = reduce(
      running,
      { type: 'analysis.completed', data: { ...running, result } },
      10_000,
      context,
    );
    expect(done).toMatchObject({ status: 'succeeded', error: null, result, progress: { progress: 1 } });
  });
});
