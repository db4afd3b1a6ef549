/**
 * Fault injection, part 2: the per-model circuit breaker seen from outside —
 * repeated upstream failures open it, calls then fail fast with
 * `circuit_open` without reaching the upstream, `GET /v1/models` and
 * `/metrics` show the state, and after the reset timeout one trial call
 * decides: a failure opens it again, a success closes it.
 *
 * The reset timeout is 1 s rather than a few hundred ms: the checks made
 * while the breaker is open (an analysis, /v1/models, /metrics) must all land
 * inside the open window even on a loaded machine. Waiting for half-open is a
 * bounded polling loop; nothing asserts wall-clock time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { json, startApp, type TestApp } from '../support/app.js';
import { type FakeReply, startFakeOpenAI } from '../support/fake-openai.js';
import {
  callsOf,
  eventually,
  fakeProvider,
  modelEvents,
  resources,
  response,
  run,
  script,
  textFor,
  trace,
} from './helpers.js';

const open = resources();
afterEach(() => open.closeAll());

interface ModelInfo {
  id: string;
  circuit: 'closed' | 'open' | 'halfOpen';
  stats: { requests: number; failures: number; p50LatencyMs: number | null };
}

async function modelInfo(app: TestApp, id: string): Promise<ModelInfo> {
  const answer = await fetch(`${app.url}/v1/models`);
  expect(answer.status).toBe(200);
  const { data } = await json<{ data: ModelInfo[] }>(answer);
  const found = data.find((model) => model.id === id);
  expect(found).toBeDefined();
  return found!;
}

async function circuitMetric(app: TestApp, id: string): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`chorus_circuit_state{model="${id}"}`));
  expect(line, `chorus_circuit_state for ${id}`).toBeDefined();
  return Number(line!.split(' ').at(-1));
}

describe('the circuit breaker, end to end', () => {
  it('opens after repeated 500s, fails fast without upstream calls, half-opens, and a trial decides', async () => {
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    let flaky: 'fail' | 'succeed' = 'fail';
    script(fake, {
      'flaky:initial': () =>
        (flaky === 'fail' ? { type: 'error', status: 500 } : { type: 'answer' }) satisfies FakeReply,
    });
    const app = await startApp({
      providers: [fakeProvider(fake, ['good', 'flaky'])],
      caller: {
        retry: { maxAttempts: 1 },
        breaker: { volumeThreshold: 3, resetTimeoutMs: 1_000, errorThresholdPercentage: 50 },
      },
    });
    open.apps.push(app);
    const analysis = (index: number) => ({ prompt: `Breaker question ${index}` });

    // 1–3: each analysis makes one failing call to flaky (retries off).
    for (let index = 1; index <= 3; index++) {
      const { record } = await run(app, analysis(index));
      expect(record.status).toBe('succeeded');
      expect(response(record, 'initial', 'up/flaky')).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'upstream_error' },
      });
    }
    expect(callsOf(fake, 'flaky')).toHaveLength(3);

    // Open: the next call fails fast and never reaches the upstream.
    const { record: rejected, events } = await run(app, analysis(4));
    expect(rejected.status).toBe('succeeded');
    const fastFailure = response(rejected, 'initial', 'up/flaky');
    expect(fastFailure.status).toBe('failed');
    expect(fastFailure.error!.code).toBe('circuit_open');
    // No attempt reached the upstream.
    expect(fastFailure.attempts).toBe(0);
    expect(trace(modelEvents(events, 'initial', 'up/flaky'))).toEqual(['failed:final']);
    expect(callsOf(fake, 'flaky')).toHaveLength(3);
    expect(response(rejected, 'initial', 'up/good').status).toBe('succeeded');

    const opened = await modelInfo(app, 'up/flaky');
    expect(opened.circuit).toBe('open');
    expect(opened.stats).toMatchObject({ requests: 3, failures: 3 });
    expect((await modelInfo(app, 'up/good')).circuit).toBe('closed');
    expect(await circuitMetric(app, 'up/flaky')).toBe(2);
    expect(await circuitMetric(app, 'up/good')).toBe(0);

    // Half-open after the reset timeout; a failing trial opens it again at once.
    await eventually(async () => (await modelInfo(app, 'up/flaky')).circuit === 'halfOpen');
    expect(await circuitMetric(app, 'up/flaky')).toBe(1);
    const { record: failedTrial } = await run(app, analysis(5));
    expect(response(failedTrial, 'initial', 'up/flaky').error!.code).toBe('upstream_error');
    expect(callsOf(fake, 'flaky')).toHaveLength(4);
    expect((await modelInfo(app, 'up/flaky')).circuit).toBe('open');

    // Half-open again; now the upstream has recovered and the trial closes the breaker.
    flaky = 'succeed';
    await eventually(async () => (await modelInfo(app, 'up/flaky')).circuit === 'halfOpen');
    const { record: recovered } = await run(app, analysis(6));
    expect(recovered.status).toBe('succeeded');
    expect(response(recovered, 'initial', 'up/flaky')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(callsOf(fake, 'flaky', 'initial')).toHaveLength(5);
    expect((await modelInfo(app, 'up/flaky')).circuit).toBe('closed');
    expect(await circuitMetric(app, 'up/flaky')).toBe(0);
    // Closed again: the later stages reach flaky as usual.
    expect(response(recovered, 'meta', 'up/flaky').status).toBe('succeeded');
  });

  it('client errors (400) never open the breaker', async () => {
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    script(fake, { 'flaky:initial': () => ({ type: 'error', status: 400 }) });
    const app = await startApp({
      providers: [fakeProvider(fake, ['good', 'flaky'])],
      caller: {
        retry: { maxAttempts: 1 },
        breaker: { volumeThreshold: 3, resetTimeoutMs: 1_000, errorThresholdPercentage: 50 },
      },
    });
    open.apps.push(app);
    for (let index = 1; index <= 5; index++) {
      const { record } = await run(app, { prompt: `Bad request ${index}` });
      expect(response(record, 'initial', 'up/flaky').error!.code).toBe('bad_request');
    }
    expect(callsOf(fake, 'flaky')).toHaveLength(5);
    expect((await modelInfo(app, 'up/flaky')).circuit).toBe('closed');
  });
});
