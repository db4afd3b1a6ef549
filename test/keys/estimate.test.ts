/**
 * POST /v1/analyses/estimate: calls per stage, input tokens counted with the
 * model family's tokenizer, max and expected cost — figures checked by hand
 * for a fixed prompt. No model is called; the record carries its estimate.
 */
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PatternDefinition } from '../../src/orchestration/patterns/types.js';
import { json, STORES, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { keyHash, keysDir } from '../support/keys-file.js';

const files = keysDir();
afterAll(() => files.remove());

const TWO_STAGES: PatternDefinition = {
  name: 'answer-then-sum',
  title: 'Answer, then sum up',
  description: 'Each model answers; one sums up.',
  stages: [
    { name: 'answer', mode: 'each', template: '{{prompt}}' },
    { name: 'sum', mode: 'one', template: 'Summarize:\n{{responses}}' },
  ],
};

// $2 in and $8 out per million tokens; the simulator writes a short answer.
const PRICED = simProvider([
  simModel('gpt-4.1-mini', { weight: 2, inputCostPerMTok: 2, outputCostPerMTok: 8 }),
  simModel('gpt-4o', { weight: 1, inputCostPerMTok: 2, outputCostPerMTok: 8 }),
  simModel('gpt-4.1', { weight: 0, inputCostPerMTok: 2, outputCostPerMTok: 8 }),
  simModel('claude-like', { weight: 0, inputCostPerMTok: 3, outputCostPerMTok: 15 }),
]);

const BODY = {
  prompt: 'What is the capital of France?',
  pattern: 'answer-then-sum',
  models: ['sim/gpt-4.1-mini', 'sim/gpt-4o'],
  synthesisModel: 'sim/gpt-4.1-mini',
  options: { maxTokens: 100 },
};

describe.each(STORES)('estimates ($name store)', ({ env }) => {
  let app: TestApp;
  const keysFile = files.write(
    ['keys:', '  - name: narrow', `    keyHash: ${keyHash('narrow-key')}`, '    models: ["sim/gpt-4o"]'].join(
      '\n',
    ),
  );
  beforeAll(async () => {
    app = await startApp({
      env: { ...env, KEYS_FILE: keysFile, API_KEYS: 'open-key' },
      providers: [PRICED],
      patterns: [TWO_STAGES],
    });
  });
  afterAll(() => app.close());

  const post = (path: string, body: unknown, key = 'open-key') =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('matches the figure worked out by hand, and the record carries it', async () => {
    // By hand: the prompt is 7 o200k tokens; the summary's prompt without the two answers
    // is counted once, and each answer it quotes is at most maxTokens (100).
    expect(countTokens(BODY.prompt)).toBe(7);
    const sumPrompt = countTokens('Summarize:\n### sim/gpt-4.1-mini\n\n\n### sim/gpt-4o\n');
    const sumInput = sumPrompt + 2 * 100;
    const max = ((7 + 7 + sumInput) * 2 + 3 * 100 * 8) / 1e6;

    const response = await post('/v1/analyses/estimate', BODY);
    expect(response.status).toBe(200);
    const estimate = await json(response);
    expect(estimate).toEqual({
      calls: 3,
      stages: [
        { name: 'answer', calls: 2, inputTokens: 14, maxOutputTokens: 200 },
        { name: 'sum', calls: 1, inputTokens: sumInput, maxOutputTokens: 100 },
      ],
      inputTokens: 14 + sumInput,
      maxOutputTokens: 300,
      costUsd: { expected: expect.any(Number), max: Math.round(max * 1e9) / 1e9 },
      tokenizer: 'gpt-tokenizer o200k_base',
    });

    const created = await post('/v1/analyses', BODY);
    expect(created.status).toBe(202);
    const record = await json<{ estimate: unknown; id: string }>(created);
    expect(record.estimate).toEqual(estimate);
  });

  it('bases the expected cost on the output lengths the models were seen to write', async () => {
    // sim/gpt-4.1 answers here for the first time: its mean is this analysis's.
    const done = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { authorization: 'Bearer open-key', 'content-type': 'application/json', prefer: 'wait=10' },
      body: JSON.stringify({
        ...BODY,
        pattern: 'standard',
        models: ['sim/gpt-4.1'],
        synthesisModel: 'sim/gpt-4.1',
        options: { maxTokens: 1000, cache: false },
      }),
    });
    const record = await json<{ stages: Array<{ responses: Array<{ usage: { outputTokens: number } }> }> }>(
      done,
    );
    expect(done.status).toBe(200);
    const written = record.stages.flatMap((stage) => stage.responses.map((r) => r.usage.outputTokens));
    const mean = Math.round(written.reduce((a, b) => a + b, 0) / written.length);
    const one = {
      ...BODY,
      pattern: 'standard',
      models: ['sim/gpt-4.1'],
      synthesisModel: 'sim/gpt-4.1',
      options: { maxTokens: 1000 },
    };
    const estimate = await json<{
      stages: Array<{ inputTokens: number; calls: number }>;
      costUsd: { expected: number; max: number };
    }>(await post('/v1/analyses/estimate', { ...one, pattern: 'answer-then-sum' }));
    // One answer (7 tokens in), then a summary quoting it: the expected cost uses `mean` where max uses 1000.
    const sumPrompt = countTokens('Summarize:\n### sim/gpt-4.1\n');
    const expected = ((7 + sumPrompt + mean) * 2 + 2 * mean * 8) / 1e6;
    expect(estimate.costUsd.expected).toBeCloseTo(expected, 9);
    expect(estimate.costUsd.max).toBeCloseTo(((7 + sumPrompt + 1000) * 2 + 2 * 1000 * 8) / 1e6, 9);
  });

  it('says when the count is an estimate (a family without a public tokenizer)', async () => {
    const estimate = await json(
      await post('/v1/analyses/estimate', { ...BODY, models: ['sim/claude-like', 'sim/gpt-4o'] }),
    );
    expect(estimate.tokenizer).toContain('estimate');
    expect(estimate.tokenizer).toContain('for sim/claude-like');
  });

  it('answers an unknown model or pattern with the same 422 as POST, and 403 for what the key may not use', async () => {
    for (const body of [
      { ...BODY, models: ['sim/nope'] },
      { ...BODY, pattern: 'nope' },
    ]) {
      const [estimate, create] = await Promise.all([
        post('/v1/analyses/estimate', body),
        post('/v1/analyses', body),
      ]);
      expect(estimate.status).toBe(422);
      const [a, b] = await Promise.all([json(estimate), json(create)]);
      expect({ ...a, instance: '', requestId: '' }).toEqual({ ...b, instance: '', requestId: '' });
    }
    const forbidden = await post('/v1/analyses/estimate', BODY, 'narrow-key');
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).detail).toContain('sim/gpt-4.1-mini');
  });
});
