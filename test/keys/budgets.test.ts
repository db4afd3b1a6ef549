/**
 * Budgets that hold: 50 analyses fired at once against a budget that fits 10
 * calls never spend more than the budget — on the memory store, and on Redis
 * with two instances sharing one ledger; a restart loses no spend; refusals
 * are 402 /problems/budget-exhausted with the figures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { PatternDefinition } from '../../src/orchestration/patterns/types.js';
import { deleteKeys, json, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { keyHash, keysDir } from '../support/keys-file.js';

const files = keysDir();
afterAll(() => files.remove());

const ONE_CALL: PatternDefinition = {
  name: 'one-call',
  title: 'One call',
  description: 'One model answers.',
  stages: [{ name: 'answer', mode: 'one', template: '{{prompt}}' }],
};
// $10 in and $10 out per million tokens; maxTokens 100 and a 7-token prompt: at most $0.00107 a call.
const PRICED = simProvider([
  simModel('gpt-4.1', { inputCostPerMTok: 10, outputCostPerMTok: 10, latencyMs: 5 }),
]);
const BODY = {
  prompt: 'What is the capital of France?',
  pattern: 'one-call',
  models: ['sim/gpt-4.1'],
  synthesisModel: 'sim/gpt-4.1',
  options: { maxTokens: 100, cache: false },
};
const PER_CALL_MAX = (7 * 10 + 100 * 10) / 1e6;
const BUDGET = 10 * PER_CALL_MAX;

function keysFile(): string {
  return files.write(
    [
      'keys:',
      '  - name: capped',
      `    keyHash: ${keyHash('capped-key')}`,
      `    budget: { usd: ${BUDGET}, period: month }`,
    ].join('\n'),
  );
}

function post(app: TestApp, path: string, body: unknown, wait = false) {
  return fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer capped-key',
      'content-type': 'application/json',
      ...(wait ? { prefer: 'wait=30' } : {}),
    },
    body: JSON.stringify(body),
  });
}

async function usage(app: TestApp) {
  const response = await fetch(`${app.url}/v1/usage`, { headers: { authorization: 'Bearer capped-key' } });
  expect(response.status).toBe(200);
  return json<{
    key: string;
    budget: { usd: number; spentUsd: number; reservedUsd: number; remainingUsd: number; resetsAt: string };
    data: Array<{ calls: number; costUsd: number; model: string; pattern: string }>;
  }>(response);
}

/** Fires 50 analyses at once over the apps (round robin) and waits for those admitted to end. */
async function fireFifty(apps: TestApp[]) {
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, index) => post(apps[index % apps.length]!, '/v1/analyses', BODY, true)),
  );
  const statuses = answers.map((response) => response.status);
  const refused = answers.filter((response) => response.status === 402);
  const problem = refused.length > 0 ? await json(refused[0]!) : undefined;
  return { statuses, problem };
}

describe('budgets', () => {
  it('memory store: 50 at once against a budget of 10 calls spend no more than the budget', async () => {
    const app = await startApp({
      env: { STORE: 'memory', KEYS_FILE: keysFile() },
      providers: [PRICED],
      patterns: [ONE_CALL],
    });
    try {
      const { statuses, problem } = await fireFifty([app]);
      // At least the 10 worst cases fit; an analysis that ends gives back what it did not spend, so a few more may.
      const admitted = statuses.filter((status) => status === 200 || status === 202).length;
      expect(admitted).toBeGreaterThanOrEqual(10);
      expect(admitted + statuses.filter((status) => status === 402).length).toBe(50);
      expect(problem).toMatchObject({
        type: '/problems/budget-exhausted',
        status: 402,
        budget: { usd: BUDGET, period: 'month', resetsAt: expect.stringMatching(/T00:00:00.000Z$/) },
      });
      expect(problem!.detail).toMatch(/monthly budget of \$0\.0107.*resets at/);
      const after = await usage(app);
      expect(after.budget.spentUsd).toBeGreaterThan(0);
      expect(after.budget.spentUsd).toBeLessThanOrEqual(BUDGET);
      expect(after.budget.reservedUsd).toBe(0);
      expect(after.data).toEqual([
        expect.objectContaining({ model: 'sim/gpt-4.1', pattern: 'one-call', calls: admitted }),
      ]);
    } finally {
      await app.close();
    }
  });

  it('runs analyses of free models for a budgeted key (nothing to spend, nothing to stop)', async () => {
    const free = simProvider([simModel('gpt-4.1', { latencyMs: 1 })]);
    const app = await startApp({
      env: { STORE: 'memory', KEYS_FILE: keysFile() },
      providers: [free],
      patterns: [ONE_CALL],
    });
    try {
      const answer = await post(app, '/v1/analyses', BODY, true);
      expect(answer.status).toBe(200);
      expect(await json(answer)).toMatchObject({ status: 'succeeded', estimate: { costUsd: { max: 0 } } });
    } finally {
      await app.close();
    }
  });

  it('Redis: two instances sharing one ledger never overspend, and a restart loses no spend', async () => {
    const prefix = `test-budget-${Date.now().toString(36)}`;
    const env = { STORE: 'redis', KEYS_FILE: keysFile(), REDIS_PREFIX: prefix };
    const start = () => startApp({ env, providers: [PRICED], patterns: [ONE_CALL] });
    const [a, b] = await Promise.all([start(), start()]);
    let restarted: TestApp | undefined;
    try {
      const { statuses } = await fireFifty([a, b]);
      const admitted = statuses.filter((status) => status === 200 || status === 202).length;
      expect(admitted).toBeGreaterThanOrEqual(10);
      expect(admitted + statuses.filter((status) => status === 402).length).toBe(50);
      const before = await usage(a);
      expect(before.budget.spentUsd).toBeLessThanOrEqual(BUDGET);
      expect(before.budget.reservedUsd).toBe(0);
      expect((await usage(b)).budget).toEqual(before.budget);

      // Both stop; a new instance finds every dollar spent so far.
      await Promise.all([a.app.close(), b.app.close()]);
      restarted = await start();
      expect((await usage(restarted)).budget).toEqual(before.budget);
      expect((await usage(restarted)).data[0]).toMatchObject({ calls: admitted });
    } finally {
      await restarted?.app.close();
      await deleteKeys('redis://127.0.0.1:6379', `${prefix}:*`);
    }
  });
});
