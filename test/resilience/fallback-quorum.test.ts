/**
 * Fault injection, part 3: what the pattern does with failed models — the
 * synthesis model's fallback (next model by weight, then a degraded result)
 * and the quorum of fan-out stages (`options.minResponses`).
 * Models `one` (weight 3), `two` (2), `three` (1): `up/one` is the synthesis model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import { type FakeReply, startFakeOpenAI } from '../support/fake-openai.js';
import {
  callsOf,
  fakeProvider,
  modelEvents,
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

const badRequest = (): FakeReply => ({ type: 'error', status: 400 });

async function setup(plan: Record<string, FakeReply[] | (() => FakeReply)>) {
  const fake = await startFakeOpenAI({ text: textFor });
  open.fakes.push(fake);
  script(fake, plan);
  const app = await startApp({
    providers: [fakeProvider(fake, ['one', 'two', 'three'])],
    caller: { retry: { maxAttempts: 2, sleep: async () => undefined } },
  });
  open.apps.push(app);
  return { fake, app };
}

describe('synthesis fallback', () => {
  it('the synthesis model fails (400) in synthesis only: the next model by weight writes the result', async () => {
    const { fake, app } = await setup({ 'one:synthesis': badRequest });
    const { record, events } = await run(app, { prompt: 'Fallback question' });
    expect(record.status).toBe('succeeded');
    expect(record.synthesisModel).toBe('up/one');
    expect(record.result).toEqual({
      text: 'two writes the synthesis answer',
      model: 'up/two',
      fallbackFrom: 'up/one',
      degraded: false,
    });
    const synthesis = stage(record, 'synthesis');
    expect(synthesis.status).toBe('succeeded');
    expect(
      synthesis.responses.map((entry) => [entry.model, entry.status, entry.error?.code ?? null]),
    ).toEqual([
      ['up/one', 'failed', 'bad_request'],
      ['up/two', 'succeeded', null],
    ]);
    expect(response(record, 'synthesis', 'up/one').attempts).toBe(1);
    // one answered in the earlier stages; three was never needed in synthesis.
    expect(response(record, 'meta', 'up/one').status).toBe('succeeded');
    expect(callsOf(fake, 'one', 'synthesis')).toHaveLength(1);
    expect(callsOf(fake, 'two', 'synthesis')).toHaveLength(1);
    expect(callsOf(fake, 'three', 'synthesis')).toHaveLength(0);
    expect(trace(modelEvents(events, 'synthesis', 'up/one'))).toEqual(['started:1', 'failed:final']);
    expect(trace(modelEvents(events, 'synthesis', 'up/two'))).toEqual([
      'started:1',
      'delta:1',
      'completed:1',
    ]);
  });

  it('a retryable failure of the synthesis model falls back once its retries are spent', async () => {
    const { fake, app } = await setup({ 'one:synthesis': () => ({ type: 'error', status: 503 }) });
    const { record } = await run(app, { prompt: 'Overloaded synthesis question' });
    expect(record.result).toMatchObject({ model: 'up/two', fallbackFrom: 'up/one', degraded: false });
    expect(response(record, 'synthesis', 'up/one')).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'overloaded' },
    });
    expect(callsOf(fake, 'one', 'synthesis')).toHaveLength(2);
  });

  it('every model fails in synthesis: the stage is skipped, the result is the synthesis model’s meta output, degraded', async () => {
    const { fake, app } = await setup({
      'one:synthesis': badRequest,
      'two:synthesis': badRequest,
      'three:synthesis': badRequest,
    });
    const { record, events } = await run(app, { prompt: 'Nothing synthesizes' });
    expect(record.status).toBe('succeeded');
    const synthesis = stage(record, 'synthesis');
    expect(synthesis.status).toBe('skipped');
    expect(synthesis.reason).toBeTruthy();
    expect(synthesis.responses.map((entry) => [entry.model, entry.error?.code, entry.attempts])).toEqual([
      ['up/one', 'bad_request', 1],
      ['up/two', 'bad_request', 1],
      ['up/three', 'bad_request', 1],
    ]);
    expect(record.result).toMatchObject({
      text: 'one writes the meta answer',
      model: 'up/one',
      degraded: true,
    });
    expect(record.result!.text).toBe(response(record, 'meta', 'up/one').text);
    for (const model of ['one', 'two', 'three']) expect(callsOf(fake, model, 'synthesis')).toHaveLength(1);
    const completed = events.find(
      (event) => event.event === 'stage.completed' && event.data.stage === 'synthesis',
    )!;
    expect(completed.data).toMatchObject({ succeeded: 0, failed: 3, status: 'skipped' });
  });

  it('the synthesis model also failed in meta: a degraded result falls back to the first meta output', async () => {
    const { app } = await setup({
      'one:meta': badRequest,
      'one:synthesis': badRequest,
      'two:synthesis': badRequest,
      'three:synthesis': badRequest,
    });
    const { record } = await run(app, { prompt: 'Degraded twice' });
    expect(record.status).toBe('succeeded');
    expect(stage(record, 'synthesis').status).toBe('skipped');
    // Synthesis tried one, then the others by weight.
    expect(stage(record, 'synthesis').responses.map((entry) => entry.model)).toEqual([
      'up/one',
      'up/two',
      'up/three',
    ]);
    expect(record.result).toMatchObject({ text: 'two writes the meta answer', degraded: true });
  });
});

describe('quorum (options.minResponses)', () => {
  it('2 of 3 answer in initial with minResponses 2: the analysis goes on', async () => {
    const { fake, app } = await setup({ 'three:initial': badRequest });
    const { record } = await run(app, { prompt: 'Quorum met', options: { minResponses: 2 } });
    expect(record.status).toBe('succeeded');
    expect(stage(record, 'initial').status).toBe('succeeded');
    expect(response(record, 'initial', 'up/three')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'bad_request' },
    });
    expect(
      stage(record, 'meta')
        .responses.map((entry) => entry.model)
        .sort(),
    ).toEqual(['up/one', 'up/two']);
    expect(stage(record, 'meta').status).toBe('succeeded');
    expect(callsOf(fake, 'three')).toHaveLength(1);
    expect(record.result).toMatchObject({ model: 'up/one', degraded: false });
  });

  it('only 1 of 3 answers in initial with minResponses 2: the analysis fails with quorum_not_met', async () => {
    const { fake, app } = await setup({ 'two:initial': badRequest, 'three:initial': badRequest });
    const { record, events } = await run(app, { prompt: 'Quorum missed', options: { minResponses: 2 } });
    expect(record.status).toBe('failed');
    expect(record.error!.code).toBe('quorum_not_met');
    expect(record.result).toBeNull();
    const initial = stage(record, 'initial');
    expect(initial.status).toBe('failed');
    expect(initial.reason).toBeTruthy();
    expect(initial.responses.filter((entry) => entry.status === 'failed')).toHaveLength(2);
    expect(stage(record, 'meta')).toMatchObject({ status: 'pending', responses: [] });
    expect(stage(record, 'synthesis')).toMatchObject({ status: 'pending', responses: [] });
    expect(fake.calls.filter((call) => !userText(call).startsWith('Quorum missed'))).toHaveLength(0);
    const terminal = events.at(-1)!;
    expect(terminal.event).toBe('analysis.failed');
    expect(terminal.data.error).toMatchObject({ code: 'quorum_not_met' });
  });

  it('failures only in meta below quorum: meta is skipped with a reason, initial outputs pass on, success', async () => {
    const { fake, app } = await setup({ 'two:meta': badRequest, 'three:meta': badRequest });
    const { record, events } = await run(app, { prompt: 'Meta below quorum', options: { minResponses: 2 } });
    expect(record.status).toBe('succeeded');
    expect(stage(record, 'initial').status).toBe('succeeded');
    const meta = stage(record, 'meta');
    expect(meta.status).toBe('skipped');
    expect(meta.reason).toBeTruthy();
    expect(meta.responses.filter((entry) => entry.status === 'failed').map((entry) => entry.model)).toEqual(
      expect.arrayContaining(['up/two', 'up/three']),
    );
    expect(stage(record, 'synthesis').status).toBe('succeeded');
    expect(record.result).toMatchObject({
      text: 'one writes the synthesis answer',
      model: 'up/one',
      fallbackFrom: null,
      degraded: false,
    });
    // The synthesis saw the initial answers, not the lone meta output of the skipped stage.
    const synthesisPrompt = userText(callsOf(fake, 'one', 'synthesis')[0]!);
    for (const model of ['one', 'two', 'three'])
      expect(synthesisPrompt).toContain(`${model} writes the initial answer`);
    expect(synthesisPrompt).not.toContain('one writes the meta answer');
    const completed = events.find(
      (event) => event.event === 'stage.completed' && event.data.stage === 'meta',
    )!;
    expect(completed.data).toMatchObject({ succeeded: 1, failed: 2, status: 'skipped' });
  });
});
