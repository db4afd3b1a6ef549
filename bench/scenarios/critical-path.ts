/**
 * Critical path and fan-out: sequential `standard` analyses at 100 ms upstream
 * latency, timed end to end by the client (`Prefer: wait`) and, per call, at
 * the fake upstream. The critical path of an analysis is the sum of each
 * stage's slowest call as the upstream timed it; what is left over is Chorus.
 */
import { median, round, summarize } from '../lib/stats.js';
import {
  type BenchContext,
  configureUpstream,
  criticalPathMs,
  MODEL_IDS,
  markMeasurement,
  runAnalysis,
  type ScenarioResult,
  startScenarioService,
  taggedPrompt,
  timeBreakdown,
  upstreamTimings,
  writeModelsFile,
} from './common.js';

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

export async function criticalPath(context: BenchContext): Promise<ScenarioResult> {
  const analyses = context.quick ? 3 : 30;
  await configureUpstream(context, UPSTREAM);
  const service = await startScenarioService(context, 'criticalPath', {
    MODELS_FILE: writeModelsFile(context, 'default'),
  });
  try {
    // Measured warm, as a service that has been up a while runs: over the first
    // analyses the JIT is still compiling and the added time falls run by run.
    const warmup = context.quick ? 3 : 20;
    for (let index = 0; index < warmup; index++)
      await timedAnalysis(context, service.url, `${context.runId}-cp-warm-${index}`, 3);
    markMeasurement(context, 'criticalPath', service);
    const runs: Timed[] = [];
    for (let index = 0; index < analyses; index++) {
      runs.push(await timedAnalysis(context, service.url, `${context.runId}-cp-${index}`, 3));
    }
    const ratios = runs.map((run) => run.endToEndMs / run.criticalMs);
    const ratio = round(median(ratios), 4);
    return {
      figures: {
        analyses: runs.length,
        ratio,
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
      },
      checks: { ratio: { met: ratio <= 1.05, target: 'ratio ≤ 1.05 (median end-to-end / critical path)' } },
    };
  } finally {
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
