/**
 * Fault injection, part 6: the edges of the retry loop and of the
 * per-attempt timeout — retry-after as an HTTP date and on a 503, a
 * retry-after beyond the time budget, an exhausted quota, a stream that
 * stalls half-way, and time spent waiting for a provider slot (which never
 * counts against the timeout). Retry waits are injected and recorded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { startApp } from '../support/app.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { type FakeReply, startFakeOpenAI } from '../support/fake-openai.js';
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
  textFor,
  trace,
} from './helpers.js';

const open = resources();

/** One Chat Completions stream chunk carrying text. */
const chunk = (text: string) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-stall',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'one',
    choices: [{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }],
  })}\n\n`;
afterEach(() => open.closeAll());

async function setup(
  plan: Record<string, FakeReply[] | (() => FakeReply)>,
  retry: Record<string, unknown> = {},
  provider: Partial<ProviderConfig> = {},
  models: string[] = ['one', 'two'],
) {
  const fake = await startFakeOpenAI({ text: textFor });
  open.fakes.push(fake);
  script(fake, plan);
  const recorder = recordingSleep();
  const app = await startApp({
    providers: [fakeProvider(fake, models, provider)],
    caller: { retry: { maxAttempts: 3, sleep: recorder.sleep, ...retry } },
  });
  open.apps.push(app);
  return { fake, app, delays: recorder.delays };
}

describe('retry-after variants', () => {
  it('retry-after as an HTTP date is honoured', async () => {
    const at = new Date(Date.now() + 10_000).toUTCString();
    const { app, delays } = await setup(
      { 'one:initial': [{ type: 'error', status: 429, headers: { 'retry-after': at } }] },
      { random: () => 0 },
    );
    const { record } = await run(app, { prompt: 'Retry at a date' });
    expect(response(record, 'initial', 'up/one')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(delays).toHaveLength(1);
    // The date has a one-second resolution and the clock moved on a little: well above 5 s either way.
    expect(delays[0]).toBeGreaterThan(5_000);
  });

  it('retry-after on a 503 is honoured as well', async () => {
    const { app, delays } = await setup({
      'one:initial': [{ type: 'error', status: 503, headers: { 'retry-after': '3' } }],
    });
    const { record } = await run(app, { prompt: 'Overloaded, come back in 3 s' });
    expect(response(record, 'initial', 'up/one')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(delays[0]).toBeGreaterThanOrEqual(3_000);
  });

  it('a retry-after beyond the total time budget is not waited for: the 429 is the final answer', async () => {
    const { fake, app, delays } = await setup(
      { 'one:initial': [{ type: 'error', status: 429, headers: { 'retry-after': '120' } }] },
      { totalTimeMs: 30_000 },
    );
    const { record, events } = await run(app, { prompt: 'Come back in two minutes' });
    expect(delays).toEqual([]);
    expect(response(record, 'initial', 'up/one')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'rate_limited' },
    });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(1);
    expect(trace(modelEvents(events, 'initial', 'up/one'))).toEqual(['started:1', 'failed:final']);
  });

  it('a 429 for an exhausted quota is not retried', async () => {
    const { fake, app, delays } = await setup({
      'one:initial': () => ({
        type: 'error',
        status: 429,
        body: {
          error: {
            message: 'You exceeded your current quota.',
            type: 'insufficient_quota',
            param: null,
            code: 'insufficient_quota',
          },
        },
      }),
    });
    const { record } = await run(app, { prompt: 'Out of quota' });
    expect(delays).toEqual([]);
    expect(response(record, 'initial', 'up/one')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'rate_limited' },
    });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(1);
  });
});

describe('per-attempt timeouts', () => {
  it('a stream that stalls after its first text hits the timeout, and the retry starts over', async () => {
    const { fake, app } = await setup(
      {
        'one:initial': [
          {
            type: 'raw',
            status: 200,
            headers: { 'content-type': 'text/event-stream' },
            // The first text arrives, then nothing for far longer than the timeout.
            chunks: [chunk('Stalling words '), chunk('never finish')],
            chunkDelayMs: 5_000,
          },
        ],
      },
      { maxAttempts: 2 },
    );
    const { record, events } = await run(app, { prompt: 'Stalled stream', options: { timeoutMs: 300 } });
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
    expect(own.find((event) => event.event === 'model.failed')!.data.error).toMatchObject({
      code: 'timeout',
    });
    expect(response(record, 'initial', 'up/one')).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      text: 'one writes the initial answer',
    });
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(2);
  });

  it('without options.timeoutMs the provider’s timeoutMs bounds each attempt', async () => {
    const { app } = await setup(
      { 'one:initial': () => ({ type: 'hang' }) },
      { maxAttempts: 1 },
      { timeoutMs: 250 },
    );
    const { record } = await run(app, { prompt: 'Provider timeout' });
    expect(response(record, 'initial', 'up/one')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'timeout' },
    });
  });

  it('time spent waiting for a provider slot does not count against the per-attempt timeout', async () => {
    // One call at a time, each taking 150 ms: the third model waits ≥ 300 ms for its slot, then answers in 150 ms.
    const fake = await startFakeOpenAI({ text: textFor, latencyMs: 150 });
    open.fakes.push(fake);
    const app = await startApp({
      providers: [fakeProvider(fake, ['one', 'two', 'three'], { concurrency: 1 })],
      caller: { retry: { maxAttempts: 1 } },
    });
    open.apps.push(app);
    const { record } = await run(app, { prompt: 'Queued, not late', options: { timeoutMs: 400 } });
    expect(record.status).toBe('succeeded');
    for (const model of ['up/one', 'up/two', 'up/three']) {
      expect(response(record, 'initial', model)).toMatchObject({ status: 'succeeded', attempts: 1 });
    }
    expect(fake.maxInFlight).toBe(1);
  });
});

describe('provider slots', () => {
  it('a call that timed out gives its provider slot back', async () => {
    // One call at a time: if the hung call kept its slot, `two` could never start.
    const { fake, app } = await setup(
      { 'one:initial': () => ({ type: 'hang' }) },
      { maxAttempts: 1 },
      { concurrency: 1 },
    );
    const { record } = await run(app, { prompt: 'Slot back after timeout', options: { timeoutMs: 200 } });
    expect(record.status).toBe('succeeded');
    expect(response(record, 'initial', 'up/one').error!.code).toBe('timeout');
    expect(response(record, 'initial', 'up/two').status).toBe('succeeded');
    // two answered in initial and meta (one, which hung, is no meta participant).
    expect(callsOf(fake, 'two')).toHaveLength(2);
  });
});

describe('errors inside a stream', () => {
  it('an Anthropic overloaded_error event after some text is retried from the start (overloaded)', async () => {
    const fake = await startFakeAnthropic({ text: textFor });
    open.fakes.push(fake);
    script(fake, {
      'claude-test:initial': [
        { type: 'streamError', afterChunks: 1, text: 'Doomed first attempt text', chunks: 3 },
      ],
    });
    const recorder = recordingSleep();
    const app = await startApp({
      providers: [
        { ...fakeProvider(fake, ['claude-test']), name: 'claude', kind: 'anthropic', apiKey: API_KEY },
      ],
      caller: { retry: { maxAttempts: 3, sleep: recorder.sleep } },
    });
    open.apps.push(app);
    const model = 'claude/claude-test';
    const { record, events } = await run(app, { prompt: 'Overloaded mid-stream', models: [model] });
    expect(record.status).toBe('succeeded');
    const own = modelEvents(events, 'initial', model);
    expect(trace(own)).toEqual([
      'started:1',
      'delta:1',
      'failed:retry',
      'started:2',
      'delta:2',
      'completed:2',
    ]);
    expect(own.find((event) => event.event === 'model.failed')!.data.error).toMatchObject({
      code: 'overloaded',
    });
    expect(response(record, 'initial', model)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      text: 'claude-test writes the initial answer',
    });
    expect(callsOf(fake, 'claude-test', 'initial')).toHaveLength(2);
  });
});
