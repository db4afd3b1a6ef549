/**
 * Fault injection, part 4: cancelling during a retry back-off, the response
 * cache (per API key, `options.cache: false`) and the coalescing of identical
 * calls in flight (one upstream call per model and prompt; one caller leaving
 * does not end the call for the other).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { json, startApp, type TestApp } from '../support/app.js';
import { type FakeUpstream, startFakeOpenAI } from '../support/fake-openai.js';
import { type ReceivedEvent, readStream } from '../support/sse.js';
import {
  type AnalysisRecord,
  callsOf,
  eventsOf,
  eventually,
  expectExplained,
  expectOneTerminal,
  fakeProvider,
  modelOf,
  post,
  resources,
  run,
  runToEnd,
  script,
  textFor,
  userText,
  waitForCalls,
} from './helpers.js';

const open = resources();
afterEach(() => open.closeAll());

const cancel = (app: TestApp, id: string, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/v1/analyses/${id}/cancel`, { method: 'POST', headers });

async function create(app: TestApp, body: unknown, headers: Record<string, string> = {}) {
  const answer = await post(app, body, headers);
  expect(answer.status).toBe(202);
  return json<AnalysisRecord>(answer);
}

/** How many generation calls the fake saw per (model, prompt). */
function callsPerPrompt(fake: FakeUpstream): number[] {
  const counts = new Map<string, number>();
  for (const call of fake.calls) {
    const key = `${modelOf(call)}\n${userText(call)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.values()];
}

async function runningAnalyses(app: TestApp): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith('chorus_analyses_running '));
  expect(line, 'chorus_analyses_running').toBeDefined();
  return Number(line!.split(' ').at(-1));
}

describe('cancel during a retry back-off', () => {
  it('ends the stream with analysis.cancelled at once and makes no further upstream call', async () => {
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    script(fake, { 'one:initial': () => ({ type: 'error', status: 503 }) });
    // Real timers: a back-off of about 10 s that only a cancellation can cut short.
    const app = await startApp({
      providers: [fakeProvider(fake, ['one'])],
      caller: {
        retry: { maxAttempts: 3, baseDelayMs: 10_000, maxDelayMs: 10_000, random: () => 0.999 },
      },
    });
    open.apps.push(app);
    const created = await create(app, { prompt: 'Cancel me while I wait', models: ['up/one'] });

    let callsAtCancel = -1;
    let cancelled: Promise<Response> | undefined;
    const stream = await readStream(`${app.url}/v1/analyses/${created.id}/events`, {
      onEvent: (event: ReceivedEvent) => {
        if (event.event === 'model.failed' && event.data.willRetry === true && !cancelled) {
          callsAtCancel = fake.calls.length;
          cancelled = cancel(app, created.id);
        }
      },
    });
    expect(cancelled).toBeDefined();
    const answer = await cancelled!;
    expect(answer.status).toBe(200);
    expect((await json<AnalysisRecord>(answer)).status).toBe('cancelled');

    expect(stream.events.at(-1)!.event).toBe('analysis.cancelled');
    expectOneTerminal(stream.events);
    expect(stream.events.filter((event) => event.event === 'model.started')).toHaveLength(1);
    expect(callsAtCancel).toBe(1);

    // The job itself ended (its back-off was abandoned, not merely outlived by the stream).
    await eventually(async () => (await runningAnalyses(app)) === 0, 3_000);
    expect(fake.calls).toHaveLength(1);
    const record = await json<AnalysisRecord>(await fetch(`${app.url}/v1/analyses/${created.id}`));
    expect(record.status).toBe('cancelled');
    expectExplained(record);
    // History replayed after the end: still exactly one terminal event.
    expectOneTerminal(await eventsOf(app, created.id), record);
  }, 8_000);
});

describe('cancel during an upstream call', () => {
  it('aborts the call in flight: the upstream connection closes and no retry follows', async () => {
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    script(fake, { 'one:initial': () => ({ type: 'hang' }) });
    const app = await startApp({
      providers: [fakeProvider(fake, ['one'])],
      caller: { retry: { maxAttempts: 3, sleep: async () => undefined } },
    });
    open.apps.push(app);
    const created = await create(app, { prompt: 'Cancel me mid-call', models: ['up/one'] });
    await waitForCalls(fake, 1);
    expect(fake.inFlight).toBe(1);
    expect((await cancel(app, created.id)).status).toBe(200);
    const stream = await readStream(`${app.url}/v1/analyses/${created.id}/events`);
    expect(stream.events.at(-1)!.event).toBe('analysis.cancelled');
    expectOneTerminal(stream.events, { status: 'cancelled' });
    // The hung request was aborted by Chorus (the fake itself never answers it).
    await eventually(async () => fake.inFlight === 0, 3_000);
    await eventually(async () => (await runningAnalyses(app)) === 0, 3_000);
    expect(fake.calls).toHaveLength(1);
    expect(stream.events.some((event) => event.event === 'model.failed' && event.data.willRetry)).toBe(false);
  });
});

describe('the response cache', () => {
  it('serves a repeated request from cache per API key; options.cache: false bypasses it', async () => {
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    const app = await startApp({
      env: { API_KEYS: 'key-a,key-b' },
      providers: [fakeProvider(fake, ['one', 'two'])],
    });
    open.apps.push(app);
    const asA = { authorization: 'Bearer key-a' };
    const asB = { authorization: 'Bearer key-b' };
    const body = { prompt: 'Cache this question' };
    const every = (record: AnalysisRecord) => record.stages.flatMap((entry) => entry.responses);

    const first = await run(app, body, asA);
    expect(first.record.status).toBe('succeeded');
    expect(every(first.record)).toHaveLength(5);
    expect(every(first.record).every((entry) => !entry.cached)).toBe(true);
    expect(fake.calls).toHaveLength(5);

    const second = await run(app, body, asA);
    expect(second.record.status).toBe('succeeded');
    expect(every(second.record).map((entry) => entry.cached)).toEqual([true, true, true, true, true]);
    expect(second.record.result!.text).toBe(first.record.result!.text);
    const completed = second.events.filter((event) => event.event === 'model.completed');
    expect(completed.map((event) => event.data.cached)).toEqual([true, true, true, true, true]);
    // The upstream saw each call exactly once.
    expect(fake.calls).toHaveLength(5);
    expect(callsPerPrompt(fake).every((count) => count === 1)).toBe(true);

    const bypass = await run(app, { ...body, options: { cache: false } }, asA);
    expect(every(bypass.record).every((entry) => !entry.cached)).toBe(true);
    expect(fake.calls).toHaveLength(10);
    expect(callsPerPrompt(fake).every((count) => count === 2)).toBe(true);

    // Key b asks the very same thing: key a's cache is not theirs.
    const other = await run(app, body, asB);
    expect(other.record.status).toBe('succeeded');
    expect(every(other.record).every((entry) => !entry.cached)).toBe(true);
    expect(fake.calls).toHaveLength(15);
  });
});

describe('coalescing identical calls in flight', () => {
  it('two identical analyses at the same time: the upstream sees one call per (model, prompt)', async () => {
    const fake = await startFakeOpenAI({ text: textFor, latencyMs: 150 });
    open.fakes.push(fake);
    const app = await startApp({ providers: [fakeProvider(fake, ['one', 'two'])] });
    open.apps.push(app);
    const body = { prompt: 'Asked twice at once' };
    const [first, second] = await Promise.all([runToEnd(app, body), runToEnd(app, body)]);
    for (const record of [first, second]) {
      expect(record.status).toBe('succeeded');
      expectExplained(record);
      expectOneTerminal(await eventsOf(app, record.id), record);
    }
    expect(second.result!.text).toBe(first.result!.text);
    expect(fake.calls).toHaveLength(5);
    expect(callsPerPrompt(fake)).toEqual([1, 1, 1, 1, 1]);
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(1);
  });

  it('cancelling one of the two while the shared call is in flight: the other still succeeds', async () => {
    const fake = await startFakeOpenAI({ text: textFor, latencyMs: 300 });
    open.fakes.push(fake);
    const app = await startApp({ providers: [fakeProvider(fake, ['one', 'two'])] });
    open.apps.push(app);
    const body = { prompt: 'One of us leaves' };
    const leaving = await create(app, body);
    await waitForCalls(fake, 2);
    const staying = await create(app, body);
    // Cancel the analysis that started the shared calls once the other one has joined both.
    const initialStarts = (all: ReceivedEvent[]) =>
      all.filter((event) => event.event === 'model.started' && event.data.stage === 'initial').length;
    await readStream(`${app.url}/v1/analyses/${staying.id}/events`, {
      until: (_event, all) => initialStarts(all) === 2,
    });
    expect(fake.calls).toHaveLength(2);
    expect((await cancel(app, leaving.id)).status).toBe(200);

    const stayed = await readStream(`${app.url}/v1/analyses/${staying.id}/events`);
    expect(stayed.events.at(-1)!.event).toBe('analysis.completed');
    const record = await json<AnalysisRecord>(await fetch(`${app.url}/v1/analyses/${staying.id}`));
    expect(record.status).toBe('succeeded');
    expectOneTerminal(stayed.events, record);
    expectExplained(record);
    expect(record.stages[0]!.responses.map((entry) => entry.status)).toEqual(['succeeded', 'succeeded']);

    const left = await readStream(`${app.url}/v1/analyses/${leaving.id}/events`);
    expect(left.events.at(-1)!.event).toBe('analysis.cancelled');
    expectOneTerminal(left.events, { status: 'cancelled' });
    // The shared initial calls were not repeated for the analysis that stayed.
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(1);
    expect(callsOf(fake, 'two', 'initial')).toHaveLength(1);
    expect(callsPerPrompt(fake).every((count) => count === 1)).toBe(true);
  });

  it('a caller that joins a shared call still waiting for a provider slot sees each real attempt start once', async () => {
    const fake = await startFakeOpenAI({ text: textFor, latencyMs: 150 });
    open.fakes.push(fake);
    // One call at a time for the provider: `two` waits for a slot while `one` runs.
    const app = await startApp({ providers: [fakeProvider(fake, ['one', 'two'], { concurrency: 1 })] });
    open.apps.push(app);
    const body = { prompt: 'Joined while queued' };
    const first = await create(app, body);
    await waitForCalls(fake, 1);
    const second = await create(app, body);
    for (const created of [first, second]) {
      const stream = await readStream(`${app.url}/v1/analyses/${created.id}/events`);
      const record = await json<AnalysisRecord>(await fetch(`${app.url}/v1/analyses/${created.id}`));
      expect(record.status).toBe('succeeded');
      expectOneTerminal(stream.events, record);
      const started = stream.events.filter((event) => event.event === 'model.started');
      // Attempts are numbered from 1; every (stage, model) started exactly one attempt here.
      expect(started.map((event) => event.data.attempt)).toEqual(started.map(() => 1));
      expect(started.map((event) => `${event.data.stage}:${event.data.model}`).sort()).toEqual(
        ['initial:up/one', 'initial:up/two', 'meta:up/one', 'meta:up/two', 'synthesis:up/one'].sort(),
      );
    }
    expect(fake.calls).toHaveLength(5);
  });

  it('identical analyses of different API keys are never shared', async () => {
    const fake = await startFakeOpenAI({ text: textFor, latencyMs: 150 });
    open.fakes.push(fake);
    const app = await startApp({
      env: { API_KEYS: 'key-a,key-b' },
      providers: [fakeProvider(fake, ['one'])],
    });
    open.apps.push(app);
    const body = { prompt: 'Same words, different owners' };
    const [first, second] = await Promise.all([
      runToEnd(app, body, { authorization: 'Bearer key-a' }),
      runToEnd(app, body, { authorization: 'Bearer key-b' }),
    ]);
    expect(first.status).toBe('succeeded');
    expect(second.status).toBe('succeeded');
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(2);
    expect(fake.calls).toHaveLength(6);
  });
});
