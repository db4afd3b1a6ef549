/**
 * Critical path and fan-out: sequential `standard` analyses at 100 ms upstream
 * latency, timed end to end by the client (`Prefer: wait`) and, per call, at
 * the fake upstream. The critical path of an analysis is the sum of each
 * stage's slowest call as the upstream timed it; what is left over is Chorus,
 * and the client, Node and the machine beneath it: the floor measures those.
 */

import { runAnalysis, taggedPrompt } from '../lib/analysis.js';
import { startHelper } from '../lib/processes.js';
import { median, round, summarize } from '../lib/stats.js';
import { criticalPathMs, timeBreakdown } from '../lib/time-breakdown.js';
import type { BenchContext, ScenarioResult } from './context.js';
import { MODEL_IDS, markMeasurement, startScenarioService, writeModelsFile } from './service.js';
import { configureUpstream, upstreamTimings } from './upstream.js';

const UPSTREAM = { latencyMs: 100, chunks: 8, chunkDelayMs: 0, textChars: 400, recordTimings: true };

interface Timed {
  endToEndMs: number;
  criticalMs: number;
  breakdown: NonNullable<ReturnType<typeof timeBreakdown>>;
}

/** Runs one standard analysis with `models` models and times it both ways. */
async function timedAnalysis(
  context: BenchContext,
  serviceUrl: string,
  tag: string,
  models: number,
): Promise<Timed> {
  await upstreamTimings(context); // forget earlier calls
  const sentAt = performance.timeOrigin + performance.now();
  const outcome = await runAnalysis(serviceUrl, {
    prompt: taggedPrompt(tag),
    models: MODEL_IDS.slice(0, models),
  });
  if (!outcome.ok) throw new Error(`analysis ${tag} failed: ${outcome.status} ${outcome.detail}`);
  const timings = await upstreamTimings(context);
  const calls = timings[tag] ?? [];
  const criticalMs = criticalPathMs(calls, [models, models, 1]);
  const breakdown = timeBreakdown(calls, [models, models, 1], sentAt, sentAt + outcome.ms);
  if (criticalMs === undefined || breakdown === undefined) {
    throw new Error(
      `analysis ${tag}: expected ${2 * models + 1} upstream calls, saw ${timings[tag]?.length ?? 0}`,
    );
  }
  return { endToEndMs: outcome.ms, criticalMs, breakdown };
}

/** Medians of the runs' ratios, added times and where the added time went. */
function summarizeRuns(runs: Timed[]) {
  const ratios = runs.map((run) => run.endToEndMs / run.criticalMs);
  return {
    analyses: runs.length,
    ratio: round(median(ratios), 4),
    ratios: summarize(ratios),
    endToEndMs: summarize(runs.map((run) => run.endToEndMs)),
    criticalPathMs: summarize(runs.map((run) => run.criticalMs)),
    addedMs: summarize(runs.map((run) => run.endToEndMs - run.criticalMs)),
    // Medians of where the added time went (see timeBreakdown).
    addedBreakdownMs: Object.fromEntries(
      (['leadInMs', 'stageSkewMs', 'stageGapsMs', 'tailMs'] as const).map((key) => [
        key,
        round(median(runs.map((run) => run.breakdown[key]))),
      ]),
    ),
  };
}

/**
 * Chorus side by side with its floor (`procs/pattern-floor.ts`: a bare
 * Fastify server running the same three stages with the `openai` client), in
 * alternating blocks of analyses: within a block one server runs back to back,
 * as a server in steady use does, and the blocks' alternation spreads drift in
 * the machine's load over both.
 */
export async function criticalPath(context: BenchContext): Promise<ScenarioResult> {
  const block = context.quick ? 3 : 10;
  const blocks = context.quick ? 1 : 3;
  await configureUpstream(context, UPSTREAM);
  const service = await startScenarioService(context, 'criticalPath', {
    MODELS_FILE: writeModelsFile(context, 'default'),
  });
  const floor = await startHelper('pattern-floor.ts', { env: { UPSTREAM_URL: context.upstreamUrl } });
  const servers = { chorus: service.url, floor: String(floor.info.url) };
  try {
    // Measured warm, as a service that has been up a while runs: over the first
    // analyses the JIT is still compiling and the added time falls run by run.
    const warmup = context.quick ? 3 : 20;
    for (let index = 0; index < warmup; index++) {
      for (const name of ['chorus', 'floor'] as const)
        await timedAnalysis(context, servers[name], `${context.runId}-cp-warm-${name}-${index}`, 3);
    }
    markMeasurement(context, 'criticalPath', service);
    const runs = { chorus: [] as Timed[], floor: [] as Timed[] };
    for (let index = 0; index < blocks; index++) {
      for (const name of index % 2 === 0 ? (['chorus', 'floor'] as const) : (['floor', 'chorus'] as const)) {
        for (let step = 0; step < block; step++) {
          const tag = `${context.runId}-cp-${name}-${index}-${step}`;
          runs[name].push(await timedAnalysis(context, servers[name], tag, 3));
        }
      }
    }
    const chorus = summarizeRuns(runs.chorus);
    const { ratio: floorRatio, ...floorFigures } = summarizeRuns(runs.floor);
    return {
      figures: { ...chorus, floorRatio, floor: floorFigures },
      checks: {
        ratio: { met: chorus.ratio <= 1.05, target: 'ratio ≤ 1.05 (median end-to-end / critical path)' },
      },
    };
  } finally {
    await floor.stop();
    await service.stop();
  }
}

export async function fanOut(context: BenchContext): Promise<ScenarioResult> {
  const repetitions = context.quick ? 1 : 8;
  const sizes = [1, 3, 6, 12];
  await configureUpstream(context, UPSTREAM);
  const service = await startScenarioService(context, 'fanOut', {
    MODELS_FILE: writeModelsFile(context, 'default'),
  });
  try {
    for (const size of sizes)
      await timedAnalysis(context, service.url, `${context.runId}-fo-warm-${size}`, size);
    markMeasurement(context, 'fanOut', service);
    const bySize = new Map<number, Timed[]>(sizes.map((size) => [size, []]));
    for (let repetition = 0; repetition < repetitions; repetition++) {
      // Sizes interleaved (in a rotating order), so drift in the machine's load hits them alike.
      for (let step = 0; step < sizes.length; step++) {
        const size = sizes[(repetition + step) % sizes.length]!;
        const run = await timedAnalysis(
          context,
          service.url,
          `${context.runId}-fo-${size}-${repetition}`,
          size,
        );
        bySize.get(size)!.push(run);
      }
    }
    const medianOf = (size: number) => median(bySize.get(size)!.map((run) => run.endToEndMs));
    const ratio12to1 = round(medianOf(12) / medianOf(1), 4);
    return {
      figures: {
        repetitions,
        ratio12to1,
        medianMsByModels: Object.fromEntries(sizes.map((size) => [size, round(medianOf(size))])),
        criticalPathMsByModels: Object.fromEntries(
          sizes.map((size) => [size, round(median(bySize.get(size)!.map((run) => run.criticalMs)))]),
        ),
        ratioToCriticalPathByModels: Object.fromEntries(
          sizes.map((size) => [
            size,
            round(median(bySize.get(size)!.map((run) => run.endToEndMs / run.criticalMs)), 4),
          ]),
        ),
      },
      checks: { ratio12to1: { met: ratio12to1 <= 1.1, target: 'time at 12 models ≤ 1.10 × time at 1' } },
    };
  } finally {
    await service.stop();
  }
}
