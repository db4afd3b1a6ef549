/**
 * Shared helpers of the fault-injection suite: providers pointing at fake
 * upstreams, per-(model, stage) scripted faults, HTTP helpers and the
 * invariants every scenario checks (one terminal event, every failed
 * response explained).
 */
import { expect } from 'vitest';
import {
  type AnalysisRecord,
  ERROR_CODES,
  type JobErrorInfo as ErrorInfo,
  type ModelResponse as ResponseRecord,
  type StageRecord,
} from '../../src/analyses/record.js';
import type { ModelConfig, ProviderConfig } from '../../src/config/types.js';
import { json, type TestApp } from '../support/app.js';
import type { FakeReply, FakeUpstream, RecordedRequest } from '../support/fake-openai.js';
import { replay } from '../support/replay.js';
import { type ReceivedEvent, readStream, TERMINAL } from '../support/sse.js';

export type { AnalysisRecord, ErrorInfo, ResponseRecord, StageRecord };

export const API_KEY = 'sk-test-LEAKCHECK-7f3a9c2e51b0';

export interface ModelSpec {
  id: string;
  weight?: number;
  inputCostPerMTok?: number;
  outputCostPerMTok?: number;
}

/** One provider over a fake upstream; models listed first get the higher weight unless told. */
export function fakeProvider(
  fake: FakeUpstream,
  models: (string | ModelSpec)[],
  overrides: Partial<ProviderConfig> = {},
): ProviderConfig {
  return {
    name: 'up',
    kind: 'openai-compatible',
    baseURL: fake.url,
    apiKey: API_KEY,
    timeoutMs: 10_000,
    source: 'test',
    models: models.map((entry, index): ModelConfig => {
      const spec = typeof entry === 'string' ? { id: entry } : entry;
      return {
        id: spec.id,
        weight: spec.weight ?? models.length - index,
        inputCostPerMTok: spec.inputCostPerMTok ?? 0,
        outputCostPerMTok: spec.outputCostPerMTok ?? 0,
        tags: [],
      };
    }),
    ...overrides,
  };
}

export type StageName = 'initial' | 'meta' | 'synthesis';

interface Message {
  role?: unknown;
  content?: unknown;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block: unknown) =>
        typeof block === 'object' && block !== null && 'text' in block ? String(block.text) : '',
      )
      .join('');
  }
  return '';
}

/** The last user message a generation call carried. */
export function userText(request: RecordedRequest): string {
  const body = request.body as { messages?: Message[] } | undefined;
  const users = (body?.messages ?? []).filter((message) => message.role === 'user');
  return contentText(users.at(-1)?.content);
}

/** The provider's own model name of a generation call (`one`, not `up/one`). */
export function modelOf(request: RecordedRequest): string {
  const body = request.body as { model?: unknown } | undefined;
  return String(body?.model ?? '');
}

/** Which `standard` stage a call belongs to, from its rendered template. */
export function stageOf(request: RecordedRequest): StageName {
  const text = userText(request);
  if (text.startsWith('Several models answered')) return 'meta';
  if (text.startsWith('You are writing the final answer')) return 'synthesis';
  return 'initial';
}

export const isGeneration = (request: RecordedRequest): boolean =>
  request.method === 'POST' && request.body !== undefined;

/** Generation calls the fake received for a model (and a stage). */
export function callsOf(fake: FakeUpstream, model: string, stage?: StageName): RecordedRequest[] {
  return fake.calls.filter(
    (request) => modelOf(request) === model && (stage === undefined || stageOf(request) === stage),
  );
}

/** A deterministic text per model and stage, so every output can be traced. */
export const textFor = (request: RecordedRequest): string =>
  `${modelOf(request)} writes the ${stageOf(request)} answer`;

/**
 * Scripts faults per `model:stage` (e.g. `one:initial`): each call takes the
 * next reply of its list; an empty list (or no list) falls through to the
 * fake's default answer. A reply given as a function is used for every call.
 */
export function script(fake: FakeUpstream, plan: Record<string, FakeReply[] | (() => FakeReply)>): void {
  fake.setHandler((request) => {
    if (!isGeneration(request)) return undefined;
    const entry = plan[`${modelOf(request)}:${stageOf(request)}`];
    if (entry === undefined) return undefined;
    return typeof entry === 'function' ? entry() : entry.shift();
  });
}

export function post(
  app: TestApp,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/v1/analyses',
): Promise<Response> {
  return fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Submits with `Prefer: wait=30` and returns the final record (fails the test when it did not end). */
export async function runToEnd(
  app: TestApp,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<AnalysisRecord> {
  const answer = await post(app, body, { prefer: 'wait=30', ...headers });
  expect(answer.status).toBe(200);
  return json<AnalysisRecord>(answer);
}

/** The whole event history of an ended analysis, over a real SSE socket. */
export async function eventsOf(
  app: TestApp,
  id: string,
  headers: Record<string, string> = {},
): Promise<ReceivedEvent[]> {
  const stream = await readStream(`${app.url}/v1/analyses/${id}/events`, { headers });
  expect(stream.status).toBe(200);
  return stream.events;
}

/** Runs an analysis to its end, checks the invariants, and returns record and events. */
export async function run(
  app: TestApp,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ record: AnalysisRecord; events: ReceivedEvent[] }> {
  const record = await runToEnd(app, body, headers);
  const events = await eventsOf(app, record.id, headers);
  expectOneTerminal(events, record);
  expectExplained(record);
  // The record is the reduction of its events: a reader of the stream alone rebuilds it exactly.
  expect(replay(record, events)).toEqual(record);
  return { record, events };
}

const TERMINAL_FOR: Record<string, string> = {
  succeeded: 'analysis.completed',
  failed: 'analysis.failed',
  cancelled: 'analysis.cancelled',
};

/** Exactly one terminal event, last, and it agrees with the record's status. */
export function expectOneTerminal(events: ReceivedEvent[], record?: { status: string }): void {
  const terminal = events.filter((event) => TERMINAL.has(event.event));
  expect(terminal.map((event) => event.event)).toHaveLength(1);
  expect(TERMINAL.has(events.at(-1)!.event)).toBe(true);
  expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
  if (record) expect(terminal[0]!.event).toBe(TERMINAL_FOR[record.status]);
  // Progress never goes down, whatever failed along the way.
  const progress = events
    .filter((event) => event.event === 'progress')
    .map((event) => event.data.progress as number);
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
  for (const value of progress) expect(value >= 0 && value <= 1).toBe(true);
}

/** Every failed response names a contract error code, a message and its attempts. */
export function expectExplained(record: AnalysisRecord): void {
  for (const stage of record.stages) {
    for (const response of stage.responses) {
      expect(typeof response.attempts).toBe('number');
      if (response.status === 'failed') {
        expect(response.error, `${stage.name}/${response.model}`).not.toBeNull();
        expect(ERROR_CODES).toContain(response.error!.code);
        expect(response.error!.message.length).toBeGreaterThan(0);
        expect(response.text).toBeNull();
      } else {
        expect(response.error).toBeNull();
        expect(response.attempts).toBeGreaterThanOrEqual(1);
      }
    }
    if (stage.status === 'skipped' || stage.status === 'failed') expect(stage.reason).toBeTruthy();
  }
  if (record.status === 'failed') {
    expect(record.error).not.toBeNull();
    expect(ERROR_CODES).toContain(record.error!.code);
  }
}

export function stage(record: AnalysisRecord, name: StageName): StageRecord {
  const found = record.stages.find((entry) => entry.name === name);
  expect(found, `stage ${name}`).toBeDefined();
  return found!;
}

export function response(record: AnalysisRecord, name: StageName, model: string): ResponseRecord {
  const found = stage(record, name).responses.filter((entry) => entry.model === model);
  expect(found, `${name}/${model}`).toHaveLength(1);
  return found[0]!;
}

/** The events about one model in one stage, in order. */
export function modelEvents(events: ReceivedEvent[], stageName: StageName, model: string): ReceivedEvent[] {
  return events.filter(
    (event) =>
      event.event.startsWith('model.') && event.data.stage === stageName && event.data.model === model,
  );
}

/** A compact trace of model events: `started:1`, `delta:1`, `failed:retry`, `completed:2`, … */
export function trace(events: ReceivedEvent[]): string[] {
  const compact: string[] = [];
  for (const event of events) {
    const data = event.data;
    if (event.event === 'model.started') compact.push(`started:${data.attempt}`);
    else if (event.event === 'model.delta') {
      const label = `delta:${data.attempt}`;
      if (compact.at(-1) !== label) compact.push(label);
    } else if (event.event === 'model.failed') compact.push(data.willRetry ? 'failed:retry' : 'failed:final');
    else if (event.event === 'model.completed') compact.push(`completed:${data.attempts}`);
  }
  return compact;
}

/** A retry sleep that records the delay asked for and resolves at once. */
export function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}

/** Polls `check` until it returns true (bounded; no timing is asserted). */
export async function eventually(check: () => Promise<boolean>, limitMs = 5_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** Resolves once the fake has received `count` generation calls (availability probes do not count). */
export function waitForCalls(fake: FakeUpstream, count: number): Promise<void> {
  return eventually(async () => fake.calls.length >= count, 5_000, 5);
}

/** Keeps the fakes and apps of a test file, closed after each test. */
export function resources(): {
  apps: TestApp[];
  fakes: FakeUpstream[];
  closeAll(): Promise<void>;
} {
  const apps: TestApp[] = [];
  const fakes: FakeUpstream[] = [];
  return {
    apps,
    fakes,
    async closeAll() {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await Promise.all(fakes.splice(0).map((fake) => fake.close()));
    },
  };
}
