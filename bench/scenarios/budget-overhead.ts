/**
 * Budget overhead: what a key's budget adds to one analysis. One service with
 * a KEYS_FILE of two keys — one with a budget (admission reserves, each call
 * is charged, the end releases), one without — and sequential single-call
 * analyses alternating between them (the order rotates). The figure is the
 * median of the rounds' medians of `budgeted_i − unlimited_i`, on the store
 * the run uses (`--store`).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAnalysis, taggedPrompt } from '../lib/analysis.js';
import { httpRequest } from '../lib/http.js';
import { median, quantile, round, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioResult } from './context.js';
import { SINGLE_PATTERN } from './overhead.js';
import { startScenarioService, writeModelsFile } from './service.js';
import { configureUpstream, INSTANT_UPSTREAM } from './upstream.js';

const KEYS = { budgeted: 'bench-budgeted-key-0123456789', unlimited: 'bench-unlimited-key-0123456789' };
const hash = (key: string) => `sha256:${createHash('sha256').update(key).digest('hex')}`;

export async function budgetOverhead(context: BenchContext): Promise<ScenarioResult> {
  const calls = context.quick ? 40 : 1000;
  const rounds = context.quick ? 2 : 10;
  const warmup = context.quick ? 10 : 200;
  await configureUpstream(context, INSTANT_UPSTREAM);
  const keysFile = join(context.tmpDir, 'budget.keys.yaml');
  writeFileSync(
    keysFile,
    [
      'keys:',
      '  - name: budgeted',
      `    keyHash: ${hash(KEYS.budgeted)}`,
      '    budget: { usd: 1000000, period: month }',
      '  - name: unlimited',
      `    keyHash: ${hash(KEYS.unlimited)}`,
    ].join('\n'),
  );
  const env: Record<string, string> = {
    MODELS_FILE: writeModelsFile(context, 'default'),
    KEYS_FILE: keysFile,
    ...(context.store === 'redis' ? { STORE: 'redis', REDIS_URL: context.redisUrl } : {}),
  };
  const service = await startScenarioService(context, 'budgetOverhead', env);
  try {
    for (const key of Object.values(KEYS)) {
      const registered = await httpRequest('POST', `${service.url}/v1/patterns`, SINGLE_PATTERN, {
        authorization: `Bearer ${key}`,
      });
      if (registered.status !== 201 && registered.status !== 409) {
        throw new Error(`registering the single pattern failed: ${registered.status} ${registered.body}`);
      }
    }
    const run = async (name: keyof typeof KEYS, tag: string) => {
      const outcome = await runAnalysis(
        service.url,
        { prompt: taggedPrompt(tag), pattern: 'single', models: ['fake/m1'], options: { maxTokens: 64 } },
        { authorization: `Bearer ${KEYS[name]}` },
      );
      if (!outcome.ok) throw new Error(`${name}: ${outcome.status} ${outcome.detail}`);
      return outcome.ms;
    };
    const pair = async (index: number, phase: string) => {
      const order =
        index % 2 === 0 ? (['budgeted', 'unlimited'] as const) : (['unlimited', 'budgeted'] as const);
      const times = { budgeted: 0, unlimited: 0 };
      for (const name of order)
        times[name] = await run(name, `${context.runId}-bo-${phase}-${name}-${index}`);
      return times;
    };
    for (let index = 0; index < warmup; index++) await pair(index, 'warm');
    const diffs: number[] = [];
    const roundMedians: number[] = [];
    const raw = { budgeted: [] as number[], unlimited: [] as number[] };
    const perRound = Math.ceil(calls / rounds);
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      const roundDiffs: number[] = [];
      for (let step = 0; step < perRound; step++) {
        const times = await pair(roundIndex * perRound + step, 'run');
        raw.budgeted.push(times.budgeted);
        raw.unlimited.push(times.unlimited);
        roundDiffs.push(times.budgeted - times.unlimited);
      }
      diffs.push(...roundDiffs);
      roundMedians.push(median(roundDiffs));
    }
    const medianMs = round(median(roundMedians));
    const goal = context.store === 'redis' ? 1 : 0.3;
    return {
      figures: {
        store: context.store,
        calls: diffs.length,
        medianAddedMs: medianMs,
        p99AddedMs: round(quantile(diffs, 0.99)),
        roundMediansMs: roundMedians.map((value) => round(value)),
        budgetedCallMs: summarize(raw.budgeted),
        unlimitedCallMs: summarize(raw.unlimited),
      },
      checks: { median: { met: medianMs <= goal, target: `medianAddedMs ≤ ${goal} ms (${context.store})` } },
    };
  } finally {
    await service.stop();
  }
}
