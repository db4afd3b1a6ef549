import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInSimulator } from '../../src/config/index.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';

/** The body of the README's council example (the `-d '…'` of the curl that asks for `"pattern": "council"`). */
function readmeCouncilBody(): Record<string, unknown> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const body = /-d '(\{[^']*"pattern": "council"[^']*\})'/.exec(readme)?.[1];
  if (!body) throw new Error('the README has no council example');
  return JSON.parse(body) as Record<string, unknown>;
}

interface Record_ {
  status: string;
  stages: Array<{ name: string; responses: Array<{ model: string; text: string }> }>;
  result: {
    text: string;
    ranking: Array<{ model: string; averageRank: number; votes: number }>;
    unparsedRankings: number;
  };
}

describe.each(STORES)('the simulator answers what the council asks ($name)', (store) => {
  let service: TestApp;

  beforeAll(async () => {
    // The built-in simulator as it boots without a key, without its pauses.
    const sim = builtInSimulator();
    service = await startApp({
      env: store.env,
      providers: [{ ...sim, models: sim.models.map((model) => ({ ...model, latencyMs: 0 })) }],
    });
  });
  afterAll(async () => service.close());

  const run = async (body: Record<string, unknown>) => {
    const response = await fetch(`${service.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return json<Record_>(response);
  };

  it("the README's council example shows a ranking of every model, every review parsed", async () => {
    const record = await run(readmeCouncilBody());
    expect(record.status).toBe('succeeded');
    expect(record.result.unparsedRankings).toBe(0);
    expect(record.result.ranking.map((entry) => entry.model).sort()).toEqual([
      'sim/alpha',
      'sim/beta',
      'sim/gamma',
    ]);
    for (const entry of record.result.ranking) expect(entry.votes).toBe(3);
    // The chairman writes an answer, not another review.
    expect(record.result.text).not.toContain('FINAL RANKING');
    const reviews = record.stages.find((stage) => stage.name === 'rankings')!.responses;
    for (const review of reviews) {
      expect(review.text).toContain(`[Simulated answer from ${review.model}: no real model was called.]`);
      expect(review.text).toContain('the answers to "Which database should a new SaaS start on?"');
      expect(review.text).toMatch(
        /FINAL RANKING:\n1\. Response [ABC]\n2\. Response [ABC]\n3\. Response [ABC]$/,
      );
    }
  });

  it('is deterministic: the same question gives the same reviews and ranking', async () => {
    const body = { prompt: 'Is a monorepo right for us?', pattern: 'council', options: { cache: false } };
    const first = await run(body);
    const second = await run(body);
    expect(second.result.ranking).toEqual(first.result.ranking);
    expect(second.stages[1]!.responses.map((r) => r.text)).toEqual(
      first.stages[1]!.responses.map((r) => r.text),
    );
  });

  it('ranks only the answers it was shown (two models: A and B, never the example’s C)', async () => {
    const record = await run({
      prompt: 'Tabs or spaces?',
      pattern: 'council',
      models: ['sim/alpha', 'sim/beta'],
    });
    expect(record.result.unparsedRankings).toBe(0);
    expect(record.result.ranking).toHaveLength(2);
    for (const review of record.stages[1]!.responses) expect(review.text).not.toContain('Response C');
  });
});
