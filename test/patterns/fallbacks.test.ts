/**
 * Stage fallbacks of a four-stage pattern (`gut`) as API.md "When models fail"
 * says, on a fake OpenAI-compatible upstream that answers `ANSWER[<model>#<n>]`
 * (n counting each model's calls, so a model's n-th call is its n-th stage) and
 * answers HTTP 400 for the calls a test marks as failing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { json } from '../support/app.js';
import { useCountedUpstream } from '../support/counted-upstream.js';
import { A, MODELS } from '../support/upstream-models.js';

const STAGES = { initial: 1, meta: 2, hyper: 3, ultra: 4 } as const;
type StageName = keyof typeof STAGES;

describe('stage fallbacks (gut on a fake upstream)', () => {
  const upstream = useCountedUpstream();
  const { prompt, callsOf } = upstream;
  /** `model#n` of the calls that get HTTP 400. */
  let failing = new Set<string>();

  const fail = (stage: StageName, ...models: string[]) => {
    for (const model of models) failing.add(`${model}#${STAGES[stage]}`);
  };
  beforeEach(() => {
    failing = new Set();
    upstream.reply = (model, n) =>
      failing.has(`${model}#${n}`) ? { type: 'error', status: 400 } : undefined;
  });

  let counter = 0;
  async function run(extra: Record<string, unknown> = {}, options: Record<string, unknown> = {}) {
    const answer = await fetch(`${upstream.app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify({
        prompt: `Should we rewrite the billing service? (${++counter})`,
        pattern: 'gut',
        options: { cache: false, ...options },
        ...extra,
      }),
    });
    expect(answer.status).toBe(200);
    return json<AnalysisRecord>(answer);
  }

  const stage = (record: AnalysisRecord, name: StageName) => record.stages[STAGES[name] - 1]!;

  function expectSkipped(record: AnalysisRecord, name: StageName): void {
    const skipped = stage(record, name);
    expect(skipped.status).toBe('skipped');
    expect(skipped.reason).toEqual(expect.any(String));
    expect(skipped.reason!.length).toBeGreaterThan(0);
  }

  it('meta below quorum: meta is skipped with a reason and hyper works from the initial answers', async () => {
    fail('meta', ...MODELS);
    const record = await run();
    expect(record.status).toBe('succeeded');
    expectSkipped(record, 'meta');
    expect(stage(record, 'meta').responses.map((r) => [r.model, r.status, r.error?.code])).toEqual(
      expect.arrayContaining([
        ['up/m1', 'failed', 'bad_request'],
        ['up/m2', 'failed', 'bad_request'],
        ['up/m3', 'failed', 'bad_request'],
      ]),
    );
    expect(stage(record, 'hyper').status).toBe('succeeded');
    for (const model of MODELS) {
      const hyper = prompt(model, 3);
      for (const other of MODELS)
        expect(hyper, `${model}'s hyper shows ${other}'s initial`).toContain(A(other, 1));
    }
    expect(stage(record, 'ultra').status).toBe('succeeded');
    expect(record.result).toMatchObject({ text: A('m1', 4), model: 'up/m1', degraded: false });
  });

  it('hyper below quorum (every model fails): hyper is skipped with a reason and ultra receives the meta answers', async () => {
    fail('hyper', ...MODELS);
    const record = await run();
    expect(record.status).toBe('succeeded');
    expect(stage(record, 'initial').status).toBe('succeeded');
    expect(stage(record, 'meta').status).toBe('succeeded');
    expectSkipped(record, 'hyper');
    expect(stage(record, 'hyper').responses.every((r) => r.status === 'failed')).toBe(true);

    const ultra = stage(record, 'ultra');
    expect(ultra.status).toBe('succeeded');
    expect(ultra.responses.map((r) => [r.model, r.status])).toEqual([['up/m1', 'succeeded']]);
    const ultraPrompt = prompt('m1', 4);
    for (const model of MODELS) expect(ultraPrompt).toContain(A(model, 2));
    expect(ultraPrompt).not.toContain('#1]');
    expect(record.result).toEqual({ text: A('m1', 4), model: 'up/m1', fallbackFrom: null, degraded: false });
  });

  it('hyper below minResponses (one of three fails, quorum 3): skipped, and ultra gets the meta answers, not the partial hyper ones', async () => {
    fail('hyper', 'm3');
    const record = await run({}, { minResponses: 3 });
    expect(record.status).toBe('succeeded');
    expectSkipped(record, 'hyper');
    const ultraPrompt = prompt('m1', 4);
    for (const model of MODELS) expect(ultraPrompt).toContain(A(model, 2));
    expect(ultraPrompt).not.toContain(A('m1', 3));
    expect(ultraPrompt).not.toContain(A('m2', 3));
    expect(record.result).toMatchObject({ text: A('m1', 4), degraded: false });
  });

  it('ultra: when the synthesis model fails, the next model by weight writes it (fallbackFrom)', async () => {
    fail('ultra', 'm1');
    const record = await run();
    expect(record.status).toBe('succeeded');
    const ultra = stage(record, 'ultra');
    expect(ultra.status).toBe('succeeded');
    expect(ultra.responses.map((r) => [r.model, r.status, r.error?.code ?? null])).toEqual([
      ['up/m1', 'failed', 'bad_request'],
      ['up/m2', 'succeeded', null],
    ]);
    for (const model of MODELS) expect(prompt('m2', 4)).toContain(A(model, 3));
    expect(callsOf('m3')).toBe(3);
    expect(record.result).toEqual({
      text: A('m2', 4),
      model: 'up/m2',
      fallbackFrom: 'up/m1',
      degraded: false,
    });
  });

  it('ultra: with a chosen synthesis model, the fallback is the highest-weight other model', async () => {
    fail('ultra', 'm3');
    const record = await run({ synthesisModel: 'up/m3' });
    expect(record.status).toBe('succeeded');
    expect(record.synthesisModel).toBe('up/m3');
    expect(stage(record, 'ultra').responses.map((r) => r.model)).toEqual(['up/m3', 'up/m1']);
    expect(record.result).toEqual({
      text: A('m1', 4),
      model: 'up/m1',
      fallbackFrom: 'up/m3',
      degraded: false,
    });
  });

  it("ultra: when every model fails, ultra is skipped and the result is the synthesis model's own hyper answer, degraded", async () => {
    fail('ultra', ...MODELS);
    const record = await run();
    expect(record.status).toBe('succeeded');
    expectSkipped(record, 'ultra');
    expect(stage(record, 'ultra').responses.map((r) => [r.model, r.status])).toEqual([
      ['up/m1', 'failed'],
      ['up/m2', 'failed'],
      ['up/m3', 'failed'],
    ]);
    expect(record.result).toMatchObject({ text: A('m1', 3), model: 'up/m1', degraded: true });
  });

  it('ultra: when every model fails and the synthesis model has no hyper answer, the result is the first hyper answer, degraded', async () => {
    fail('hyper', 'm1');
    fail('ultra', ...MODELS);
    const record = await run();
    expect(record.status).toBe('succeeded');
    expect(stage(record, 'hyper').status).toBe('succeeded');
    expectSkipped(record, 'ultra');
    expect(record.result).toMatchObject({ text: A('m2', 3), model: 'up/m2', degraded: true });
  });

  it('first stage below quorum (every model fails): the analysis fails with quorum_not_met', async () => {
    fail('initial', ...MODELS);
    const record = await run();
    expect(record.status).toBe('failed');
    expect(record.error?.code).toBe('quorum_not_met');
    expect(stage(record, 'initial').status).toBe('failed');
    expect(record.stages.slice(1).map((s) => s.status)).toEqual(['pending', 'pending', 'pending']);
    expect(record.result).toBeNull();
    expect(upstream.seen).toHaveLength(3);
  });

  it('first stage below minResponses (two of three answer, quorum 3): quorum_not_met', async () => {
    fail('initial', 'm2');
    const record = await run({}, { minResponses: 3 });
    expect(record.status).toBe('failed');
    expect(record.error?.code).toBe('quorum_not_met');
    expect(stage(record, 'initial').status).toBe('failed');
    expect(stage(record, 'initial').reason).toEqual(expect.any(String));
    expect(upstream.seen).toHaveLength(3);
  });
});
