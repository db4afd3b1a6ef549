/**
 * Fault injection, part 1: what each upstream failure becomes — retried or
 * not, with which code, how many attempts, which events, which log line.
 * Real sockets end to end: fake upstream ← Chorus → fetch / SSE. Retry waits
 * are injected (recorded, resolved at once): no wall-clock assertions.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { FAKE_BODY_MARKER, type FakeReply, startFakeOpenAI } from '../support/fake-openai.js';
import {
  API_KEY,
  callsOf,
  fakeProvider,
  modelEvents,
  recordingSleep,
  resources,
  response,
  run,
  script,
  stage,
  textFor,
  trace,
  userText,
} from './helpers.js';

const open = resources();
afterEach(() => open.closeAll());

/** One fake upstream with models `one` (weight 2) and `two` (weight 1), and an app over it. */
async function setup(
  plan: Record<string, FakeReply[] | (() => FakeReply)>,
  retry: Record<string, unknown> = {},
  models: string[] = ['one', 'two'],
) {
  const fake = await startFakeOpenAI({ text: textFor });
  open.fakes.push(fake);
  script(fake, plan);
  const recorder = recordingSleep();
  const app = await startApp({
    providers: [fakeProvider(fake, models)],
    caller: { retry: { maxAttempts: 3, sleep: recorder.sleep, ...retry } },
  });
  open.apps.push(app);
  return { fake, app, delays: recorder.delays };
}

describe('429 rate limits', () => {
  it('honours retry-after: 2 (the wait asked for is at least 2000 ms), then succeeds on attempt 2', async () => {
    const { fake, app, delays } = await setup(
      { 'one:initial': [{ type: 'error', status: 429, headers: { 'retry-after': '2' } }] },
      {},
      ['one'],
    );
    const { record, events } = await run(app, { prompt: 'Rate limited question', models: ['up/one'] });
    expect(record.status).toBe('succeeded');
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(2000);

    const answer = response(record, 'initial', 'up/one');
    expect(answer).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    expect(answer.text).toBe('one writes the initial answer');
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(2);

    const own = modelEvents(events, 'initial', 'up/one');
    expect(trace(own)).toEqual(['started:1', 'failed:retry', 'started:2', 'delta:2', 'completed:2']);
    const failed = own.find((event) => event.event === 'model.failed')!;
    expect(failed.data).toMatchObject({ willRetry: true, error: { code: 'rate_limited' } });
    const completed = own.find((event) => event.event === 'model.completed')!;
    expect(completed.data.attempts).toBe(2);
  });

  it('honours retry-after-ms (random 0: the wait is exactly the upstream value)', async () => {
    const { app, delays } = await setup(
      { 'one:initial': [{ type: 'error', status: 429, headers: { 'retry-after-ms': '1500' } }] },
      { random: () => 0 },
      ['one'],
    );
    const { record } = await run(app, { prompt: 'Retry-after-ms question', models: ['up/one'] });
    expect(record.status).toBe('succeeded');
    expect(delays).toEqual([1500]);
    expect(response(record, 'initial', 'up/one').attempts).toBe(2);
  });

  it('without retry-after backs off by policy: full jitter in [0, min(max, base·2^(n-1))) from the injected random', async () => {
    const randoms = [0.5, 0.999];
    const { fake, app, delays } = await setup(
      {
        'one:initial': [
          { type: 'error', status: 429 },
          { type: 'error', status: 429 },
        ],
      },
      { baseDelayMs: 1000, maxDelayMs: 1500, random: () => randoms.shift() ?? 0 },
      ['one'],
    );
    const { record, events } = await run(app, { prompt: 'Backoff question', models: ['up/one'] });
    expect(record.status).toBe('succeeded');
    // 1st retry: ceiling min(1500, 1000) = 1000 → 0.5 · 1000; 2nd: ceiling min(1500, 2000) = 1500 → 0.999 · 1500.
    expect(delays).toEqual([500, 1498]);
    expect(delays[0]).toBeLessThan(1000);
    expect(delays[1]).toBeLessThan(1500);
    expect(response(record, 'initial', 'up/one').attempts).toBe(3);
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(3);
    expect(trace(modelEvents(events, 'initial', 'up/one'))).toEqual([
      'started:1',
      'failed:retry',
      'started:2',
      'failed:retry',
      'started:3',
      'delta:3',
      'completed:3',
    ]);
  });
});

describe('server errors are retried, client errors are not', () => {
  it.each([
    [500, 'upstream_error'],
    [502, 'upstream_error'],
    [503, 'overloaded'],
  ])('%i is retried (%s) and the second attempt succeeds', async (status, code) => {
    const { fake, app, delays } = await setup({ 'one:initial': [{ type: 'error', status }] });
    const { record, events } = await run(app, { prompt: `Status ${status} question` });
    expect(record.status).toBe('succeeded');
    expect(delays).toHaveLength(1);
    expect(response(record, 'initial', 'up/one')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(response(record, 'initial', 'up/two')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(2);
    const own = modelEvents(events, 'initial', 'up/one');
    expect(trace(own)).toEqual(['started:1', 'failed:retry', 'started:2', 'delta:2', 'completed:2']);
    expect(own.find((event) => event.event === 'model.failed')!.data.error).toMatchObject({ code });
  });

  it('Anthropic 529 overloaded_error is retried (overloaded) and the second attempt succeeds', async () => {
    const fake = await startFakeAnthropic({ text: textFor });
    open.fakes.push(fake);
    script(fake, { 'claude-test:initial': [{ type: 'error', status: 529 }] });
    const recorder = recordingSleep();
    const app = await startApp({
      providers: [
        {
          ...fakeProvider(fake, ['claude-test']),
          name: 'claude',
          kind: 'anthropic',
          apiKey: API_KEY,
        },
      ],
      caller: { retry: { maxAttempts: 3, sleep: recorder.sleep } },
    });
    open.apps.push(app);
    const model = 'claude/claude-test';
    const { record, events } = await run(app, { prompt: 'Overloaded question', models: [model] });
    expect(record.status).toBe('succeeded');
    expect(recorder.delays).toHaveLength(1);
    expect(response(record, 'initial', model)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(response(record, 'initial', model).text).toBe('claude-test writes the initial answer');
    expect(callsOf(fake, 'claude-test', 'initial')).toHaveLength(2);
    const own = modelEvents(events, 'initial', model);
    expect(trace(own)).toEqual(['started:1', 'failed:retry', 'started:2', 'delta:2', 'completed:2']);
    expect(own.find((event) => event.event === 'model.failed')!.data.error).toMatchObject({
      code: 'overloaded',
    });
  });

  it.each([
    [400, 'bad_request'],
    [401, 'auth_failed'],
  ])('%i is not retried: attempts 1, code %s', async (status, code) => {
    const { fake, app, delays } = await setup({ 'one:initial': () => ({ type: 'error', status }) });
    const { record, events } = await run(app, { prompt: `Status ${status} question` });
    expect(record.status).toBe('succeeded');
    expect(delays).toEqual([]);
    const failed = response(record, 'initial', 'up/one');
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: { code } });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(1);
    expect(trace(modelEvents(events, 'initial', 'up/one'))).toEqual(['started:1', 'failed:final']);
    // The stage goes on with the model that answered.
    expect(stage(record, 'initial').status).toBe('succeeded');
    expect(stage(record, 'meta').responses.map((entry) => entry.model)).toEqual(['up/two']);
  });
});

describe('connection faults', () => {
  it('a connection reset before any header is retried (network_error) and succeeds', async () => {
    const { fake, app } = await setup({ 'one:initial': [{ type: 'reset' }] });
    const { record, events } = await run(app, { prompt: 'Reset question' });
    expect(record.status).toBe('succeeded');
    expect(response(record, 'initial', 'up/one')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(2);
    const own = modelEvents(events, 'initial', 'up/one');
    expect(trace(own)).toEqual(['started:1', 'failed:retry', 'started:2', 'delta:2', 'completed:2']);
    expect(own.find((event) => event.event === 'model.failed')!.data.error).toMatchObject({
      code: 'network_error',
    });
  });

  it('a reset mid-stream is retried from the start: the partial text of attempt 1 is dropped', async () => {
    const partial = 'Partial words from the first attempt that must be dropped';
    const { fake, app } = await setup({
      'one:initial': [{ type: 'resetMidStream', afterChunks: 2, text: partial, chunks: 4 }],
    });
    const { record, events } = await run(app, { prompt: 'Mid-stream reset question' });
    expect(record.status).toBe('succeeded');
    const own = modelEvents(events, 'initial', 'up/one');
    expect(trace(own)).toEqual([
      'started:1',
      'delta:1',
      'failed:retry',
      'started:2',
      'delta:2',
      'completed:2',
    ]);
    const deltas = (attempt: number) =>
      own
        .filter((event) => event.event === 'model.delta' && event.data.attempt === attempt)
        .map((event) => event.data.text)
        .join('');
    expect(deltas(1).length).toBeGreaterThan(0);
    expect(partial.startsWith(deltas(1))).toBe(true);
    const completed = own.find((event) => event.event === 'model.completed')!;
    expect(completed.data.text).toBe('one writes the initial answer');
    expect(deltas(2)).toBe(completed.data.text);
    expect(response(record, 'initial', 'up/one')).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      text: 'one writes the initial answer',
    });
    // Nothing of the dropped text reaches a later stage.
    for (const call of callsOf(fake, 'one', 'meta')) expect(userText(call)).not.toContain('Partial words');
  });
});

describe('timeouts and broken payloads', () => {
  it('a hanging call hits its per-attempt timeout (options.timeoutMs) on every attempt: code timeout', async () => {
    const { fake, app, delays } = await setup(
      { 'one:initial': () => ({ type: 'hang' }) },
      { maxAttempts: 2 },
    );
    const { record, events } = await run(app, { prompt: 'Hanging question', options: { timeoutMs: 200 } });
    expect(record.status).toBe('succeeded');
    expect(delays).toHaveLength(1);
    expect(response(record, 'initial', 'up/one')).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'timeout' },
    });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(2);
    const own = modelEvents(events, 'initial', 'up/one');
    expect(trace(own)).toEqual(['started:1', 'failed:retry', 'started:2', 'failed:final']);
    for (const event of own.filter((entry) => entry.event === 'model.failed')) {
      expect(event.data.error).toMatchObject({ code: 'timeout' });
    }
  });

  it('a hanging call with retries off fails once with timeout', async () => {
    const { fake, app } = await setup({ 'one:initial': () => ({ type: 'hang' }) }, { maxAttempts: 1 });
    const { record } = await run(app, { prompt: 'Hanging once', options: { timeoutMs: 200 } });
    expect(response(record, 'initial', 'up/one')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'timeout' },
    });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(1);
  });

  it('a malformed payload is upstream_error (retryable: every attempt is made, each fails)', async () => {
    const { fake, app } = await setup({ 'one:initial': () => ({ type: 'malformed' }) }, { maxAttempts: 2 });
    const { record, events } = await run(app, { prompt: 'Malformed question' });
    expect(record.status).toBe('succeeded');
    expect(response(record, 'initial', 'up/one')).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'upstream_error' },
    });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(2);
    expect(trace(modelEvents(events, 'initial', 'up/one'))).toEqual([
      'started:1',
      'failed:retry',
      'started:2',
      'failed:final',
    ]);
  });
});

describe('logs', () => {
  it('one structured line per failed attempt: model, attempt, code, status, upstreamRequestId, analysisId', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    script(fake, {
      'one:initial': [
        { type: 'error', status: 500 },
        { type: 'error', status: 503 },
      ],
    });
    const recorder = recordingSleep();
    const app = await startApp({
      logger,
      providers: [fakeProvider(fake, ['one', 'two'])],
      caller: { retry: { maxAttempts: 3, sleep: recorder.sleep } },
    });
    open.apps.push(app);
    const { record } = await run(app, { prompt: 'Logged question' });
    expect(response(record, 'initial', 'up/one').attempts).toBe(3);

    const calls = callsOf(fake, 'one', 'initial');
    expect(calls).toHaveLength(3);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const failures = parsed.filter((line) => line.model === 'up/one' && typeof line.attempt === 'number');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({
      model: 'up/one',
      attempt: 1,
      code: 'upstream_error',
      status: 500,
      upstreamRequestId: `req_fake_${calls[0]!.index}`,
      analysisId: record.id,
    });
    expect(failures[1]).toMatchObject({
      model: 'up/one',
      attempt: 2,
      code: 'overloaded',
      status: 503,
      upstreamRequestId: `req_fake_${calls[1]!.index}`,
      analysisId: record.id,
    });
    // No other model failed, so no other line of this kind.
    expect(parsed.filter((line) => typeof line.attempt === 'number' && line.code)).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain(FAKE_BODY_MARKER);
      expect(line).not.toContain(API_KEY);
    }
  });
});
