/**
 * Fault injection, part 5: usage and cost as the upstream reported them,
 * `options.maxCostUsd` stopping new calls, and no leak of an upstream body or
 * the provider key into any answer, record, event, problem or log line.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { json, startApp } from '../support/app.js';
import {
  FAKE_BODY_MARKER,
  type FakeReply,
  type FakeUsage,
  type RecordedRequest,
  startFakeOpenAI,
} from '../support/fake-openai.js';
import { readStream } from '../support/sse.js';
import {
  API_KEY,
  callsOf,
  fakeProvider,
  isGeneration,
  modelEvents,
  modelOf,
  post,
  recordingSleep,
  resources,
  response,
  run,
  type StageName,
  stage,
  stageOf,
  textFor,
} from './helpers.js';

const open = resources();
afterEach(() => open.closeAll());

const PRICES = {
  one: { inputCostPerMTok: 2, outputCostPerMTok: 10 },
  two: { inputCostPerMTok: 0.5, outputCostPerMTok: 4 },
} as const;
type Priced = keyof typeof PRICES;

const STAGE_OFFSET: Record<StageName, number> = { initial: 0, meta: 100, synthesis: 200 };

/** What the fake reports for a call: distinct per model and stage. */
function usageFor(model: string, stageName: StageName): FakeUsage {
  const base = model === 'one' ? 1000 : 3000;
  return { inputTokens: base + STAGE_OFFSET[stageName], outputTokens: base / 5 + STAGE_OFFSET[stageName] };
}

function costOf(model: Priced, usage: FakeUsage): number {
  const price = PRICES[model];
  return (usage.inputTokens * price.inputCostPerMTok + usage.outputTokens * price.outputCostPerMTok) / 1e6;
}

async function pricedSetup() {
  const fake = await startFakeOpenAI({ text: textFor });
  open.fakes.push(fake);
  fake.setHandler((request: RecordedRequest): FakeReply | undefined =>
    isGeneration(request)
      ? { type: 'answer', usage: usageFor(modelOf(request), stageOf(request)) }
      : undefined,
  );
  const app = await startApp({
    providers: [
      fakeProvider(fake, [
        { id: 'one', weight: 2, ...PRICES.one },
        { id: 'two', weight: 1, ...PRICES.two },
      ]),
    ],
  });
  open.apps.push(app);
  return { fake, app };
}

describe('usage and cost', () => {
  it('responses carry the usage the upstream reported, costs follow the configured prices, the analysis sums them', async () => {
    const { app } = await pricedSetup();
    const { record, events } = await run(app, { prompt: 'What does this cost?' });
    expect(record.status).toBe('succeeded');
    let inputTokens = 0;
    let outputTokens = 0;
    let costUsd = 0;
    for (const entry of record.stages) {
      for (const answer of entry.responses) {
        const model = answer.model.replace('up/', '') as Priced;
        const expected = usageFor(model, entry.name as StageName);
        expect(answer.usage, `${entry.name}/${answer.model}`).toEqual(expected);
        expect(answer.costUsd).toBeCloseTo(costOf(model, expected), 12);
        const completed = modelEvents(events, entry.name as StageName, answer.model).find(
          (event) => event.event === 'model.completed',
        )!;
        expect(completed.data.usage).toEqual(expected);
        inputTokens += expected.inputTokens;
        outputTokens += expected.outputTokens;
        costUsd += costOf(model, expected);
      }
    }
    expect(record.stages.flatMap((entry) => entry.responses)).toHaveLength(5);
    expect(record.usage.inputTokens).toBe(inputTokens);
    expect(record.usage.outputTokens).toBe(outputTokens);
    expect(record.usage.costUsd).toBeCloseTo(costUsd, 12);
    expect(record.usage.costUsd).toBeGreaterThan(0);
  });

  it('maxCostUsd reached after initial: no meta call starts, the analysis fails with budget_exceeded', async () => {
    const { fake, app } = await pricedSetup();
    const initialCost = costOf('one', usageFor('one', 'initial')) + costOf('two', usageFor('two', 'initial'));
    const { record, events } = await run(app, {
      prompt: 'Cheap question',
      options: { maxCostUsd: initialCost / 2 },
    });
    expect(record.status).toBe('failed');
    expect(record.error!.code).toBe('budget_exceeded');
    expect(events.at(-1)!.data.error).toMatchObject({ code: 'budget_exceeded' });
    expect(stage(record, 'initial').status).toBe('succeeded');
    const meta = stage(record, 'meta');
    expect(meta.status).toBe('failed');
    for (const answer of meta.responses) {
      expect(answer).toMatchObject({ status: 'failed', attempts: 0, error: { code: 'budget_exceeded' } });
    }
    expect(stage(record, 'synthesis').responses).toEqual([]);
    // Only the two initial calls ever reached the upstream.
    expect(fake.calls).toHaveLength(2);
    expect(callsOf(fake, 'one', 'initial')).toHaveLength(1);
    expect(callsOf(fake, 'two', 'initial')).toHaveLength(1);
    expect(
      events.filter((event) => event.event === 'model.started' && event.data.stage !== 'initial'),
    ).toEqual([]);
    // What was spent is still accounted for.
    expect(record.usage.costUsd).toBeCloseTo(initialCost, 12);
  });

  it('maxCostUsd reached after meta: the synthesis does not start (not even a fallback)', async () => {
    const { fake, app } = await pricedSetup();
    const spentBeforeSynthesis = (['initial', 'meta'] as const).reduce(
      (sum, name) => sum + costOf('one', usageFor('one', name)) + costOf('two', usageFor('two', name)),
      0,
    );
    const initialCost = costOf('one', usageFor('one', 'initial')) + costOf('two', usageFor('two', 'initial'));
    const { record } = await run(app, {
      prompt: 'Nearly affordable question',
      options: { maxCostUsd: (initialCost + spentBeforeSynthesis) / 2 },
    });
    expect(record.status).toBe('failed');
    expect(record.error!.code).toBe('budget_exceeded');
    expect(stage(record, 'meta').status).toBe('succeeded');
    expect(response(record, 'synthesis', 'up/one')).toMatchObject({
      status: 'failed',
      attempts: 0,
      error: { code: 'budget_exceeded' },
    });
    expect(stage(record, 'synthesis').responses).toHaveLength(1);
    expect(callsOf(fake, 'one', 'synthesis')).toHaveLength(0);
    expect(callsOf(fake, 'two', 'synthesis')).toHaveLength(0);
    expect(fake.calls).toHaveLength(4);
  });
});

describe('no leaks', () => {
  it('no answer, record, event, problem, models list, metric or log line carries an upstream body or the key', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    const echo = `${FAKE_BODY_MARKER}: Incorrect API key provided: ${API_KEY}`;
    const errorBody = (type: string) => ({ error: { message: echo, type, param: null, code: type } });
    const plans: Record<string, FakeReply[]> = {
      'one:initial': [{ type: 'error', status: 401, body: errorBody('invalid_api_key') }],
      'two:initial': [{ type: 'error', status: 400, body: errorBody('context_length_exceeded') }],
      'three:initial': [
        { type: 'streamError', afterChunks: 1, error: { message: echo, type: 'server_error', code: null } },
        { type: 'error', status: 500, body: `${echo} (plain text)` },
        { type: 'error', status: 429, body: { detail: echo }, headers: { 'retry-after': '1' } },
      ],
      'four:initial': [{ type: 'error', status: 503, body: errorBody('overloaded') }, { type: 'malformed' }],
    };
    fake.setHandler((request) => {
      if (!isGeneration(request)) return undefined;
      const key = `${modelOf(request)}:${stageOf(request)}`;
      if (modelOf(request) === 'five') return { type: 'error', status: 500, body: errorBody('server_error') };
      return plans[key]?.shift();
    });
    // The availability probe fails too, with the same echo.
    fake.setModelsReply({ type: 'error', status: 500, body: errorBody('server_error') });
    const recorder = recordingSleep();
    const app = await startApp({
      logger,
      providers: [fakeProvider(fake, ['one', 'two', 'three', 'four', 'five'])],
      caller: { retry: { maxAttempts: 4, sleep: recorder.sleep } },
    });
    open.apps.push(app);

    const seen: string[] = [];
    const keep = async (answer: Response) => {
      seen.push(JSON.stringify([...answer.headers]));
      seen.push(await answer.text());
      return answer;
    };

    const mixed = await run(app, {
      prompt: 'Leak check',
      models: ['up/one', 'up/two', 'up/three', 'up/four'],
    });
    expect(mixed.record.status).toBe('succeeded');
    expect(response(mixed.record, 'initial', 'up/one').error!.code).toBe('auth_failed');
    expect(response(mixed.record, 'initial', 'up/two').error!.code).toBe('context_length_exceeded');
    expect(response(mixed.record, 'initial', 'up/three')).toMatchObject({ status: 'succeeded', attempts: 4 });
    expect(response(mixed.record, 'initial', 'up/four')).toMatchObject({ status: 'succeeded', attempts: 3 });
    seen.push(JSON.stringify(mixed.record), JSON.stringify(mixed.events));

    // Everything fails: the analysis fails, its failure event and record are checked too.
    const failing = await run(app, { prompt: 'Leak check, all down', models: ['up/five'] });
    expect(failing.record.status).toBe('failed');
    expect(response(failing.record, 'initial', 'up/five')).toMatchObject({
      attempts: 4,
      error: { code: 'upstream_error' },
    });
    seen.push(JSON.stringify(failing.record), JSON.stringify(failing.events));
    const raw = await readStream(`${app.url}/v1/analyses/${failing.record.id}/events`);
    seen.push(JSON.stringify(raw.events), raw.comments.join('\n'));

    await keep(await fetch(`${app.url}/v1/analyses/${mixed.record.id}`));
    await keep(await fetch(`${app.url}/v1/analyses?limit=100`));
    await keep(await fetch(`${app.url}/v1/models`));
    await keep(await fetch(`${app.url}/metrics`));
    // Problems: not found, conflict, validation.
    expect((await keep(await fetch(`${app.url}/v1/analyses/an_nope`))).status).toBe(404);
    expect(
      (await keep(await fetch(`${app.url}/v1/analyses/${mixed.record.id}/cancel`, { method: 'POST' })))
        .status,
    ).toBe(409);
    expect((await keep(await post(app, { prompt: '' }))).status).toBe(400);
    expect((await keep(await post(app, { prompt: 'x', models: ['up/nope'] }))).status).toBe(422);

    const models = await json<{ data: Array<{ id: string; available: boolean }> }>(
      await fetch(`${app.url}/v1/models`),
    );
    expect(models.data.map((model) => model.id)).toContain('up/one');

    // The fake really sent the echo (otherwise this test would prove nothing).
    expect(fake.calls.length).toBeGreaterThan(8);
    for (const text of [...seen, ...lines]) {
      expect(text).not.toContain(FAKE_BODY_MARKER);
      expect(text).not.toContain(API_KEY);
    }
    expect(lines.length).toBeGreaterThan(0);
  });
});
