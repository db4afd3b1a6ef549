/**
 * GET /v1/usage: a key's calls, tokens and cost per day, model and pattern;
 * an admin may read another key's; dates that are not dates are 400. The
 * same spend is counted in /metrics by key name and model (never the key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, STORES, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { keyHash, keysDir } from '../support/keys-file.js';

const files = keysDir();
afterAll(() => files.remove());

const PRICED = simProvider([simModel('gpt-4.1', { inputCostPerMTok: 10, outputCostPerMTok: 10 })]);

describe.each(STORES)('usage ($name store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    const keys = files.write(
      [
        'keys:',
        '  - name: team',
        `    keyHash: ${keyHash('team-secret')}`,
        '    budget: { usd: 5, period: day }',
        '  - name: boss',
        `    keyHash: ${keyHash('boss-secret')}`,
        '    admin: true',
      ].join('\n'),
    );
    app = await startApp({ env: { ...env, KEYS_FILE: keys }, providers: [PRICED] });
    const done = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { authorization: 'Bearer team-secret', 'content-type': 'application/json', prefer: 'wait=20' },
      body: JSON.stringify({
        prompt: 'Hello there',
        models: ['sim/gpt-4.1'],
        options: { maxTokens: 50, cache: false },
      }),
    });
    expect(done.status).toBe(200);
  });
  afterAll(() => app.close());

  const get = (path: string, key: string) =>
    fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

  it("answers the caller's usage per day, model and pattern, with its budget", async () => {
    const usage = await json<{
      key: string;
      budget: Record<string, unknown>;
      data: Array<Record<string, unknown>>;
    }>(await get('/v1/usage', 'team-secret'));
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.key).toBe('team');
    expect(usage.data).toEqual([
      {
        day: today,
        model: 'sim/gpt-4.1',
        pattern: 'standard',
        calls: expect.any(Number),
        inputTokens: expect.any(Number),
        outputTokens: expect.any(Number),
        costUsd: expect.any(Number),
      },
    ]);
    const spent = usage.data[0]!.costUsd as number;
    expect(usage.budget).toMatchObject({ usd: 5, period: 'day', reservedUsd: 0 });
    expect(usage.budget.spentUsd).toBeCloseTo(spent, 9);
    expect(usage.budget.remainingUsd).toBeCloseTo(5 - spent, 9);
  });

  it('lets an admin read another key, and no one else', async () => {
    const boss = await json<{ key: string; data: unknown[] }>(await get('/v1/usage?key=team', 'boss-secret'));
    expect(boss.key).toBe('team');
    expect(boss.data).toHaveLength(1);
    expect((await get('/v1/usage?key=boss', 'team-secret')).status).toBe(403);
    expect((await get('/v1/usage?key=nobody', 'boss-secret')).status).toBe(404);
  });

  it('answers 400 for a from or to that is not a date, and an empty range before the spend', async () => {
    const bad = await get('/v1/usage?from=yesterday', 'team-secret');
    expect(bad.status).toBe(400);
    expect((await json(bad)).type).toBe('/problems/validation-error');
    const past = await json<{ data: unknown[] }>(
      await get('/v1/usage?from=2020-01-01&to=2020-01-31', 'team-secret'),
    );
    expect(past.data).toEqual([]);
  });

  it('counts cost and tokens by key name and model in /metrics, never the key', async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toMatch(/chorus_key_cost_usd_total\{key="team",model="sim\/gpt-4.1"\} [0-9.e-]+/);
    expect(text).toMatch(/chorus_key_tokens_total\{key="team",model="sim\/gpt-4.1",direction="output"\} \d+/);
    expect(text).not.toContain('team-secret');
  });
});
