/**
 * Memory: the cost of retained analyses. The built app runs in its own
 * process under `--expose-gc` (procs/memory-service.ts) with a memory store
 * whose clock the bench can advance. "Heap" is V8's `heapUsed` plus
 * `external` (so memory moved off the JS heap, into Buffers, still counts),
 * after forced collections.
 *
 * 1. Warm-up: more than 1,024 analyses (enough to fill every cache and pool),
 *    then expired — the baseline.
 * 2. N finished `standard` analyses (3 models, 8-chunk answers of ~400
 *    characters, distinct prompts) retained — per analysis = growth / N.
 * 3. Expired (store clock past the TTL, then a sweep) — ratio to the baseline.
 * 4. Informational: a small batch (300; quick 50) run and expired — ratio to the baseline.
 */
import { startHelper } from '../lib/processes.js';
import { round } from '../lib/stats.js';
import {
  type BenchContext,
  closedLoop,
  configureUpstream,
  MODEL_IDS,
  type ScenarioResult,
  writeModelsFile,
} from './common.js';

interface Memory {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  heapTotal: number;
  rss: number;
}

const heapOf = (memory: Memory) => memory.heapUsed + memory.external;

export async function memory(context: BenchContext): Promise<ScenarioResult> {
  const analyses = context.quick ? 200 : 10_000;
  const warmup = context.quick ? 100 : 1_100;
  const smallBatch = context.quick ? 50 : 300;
  const concurrency = 64;
  await configureUpstream(context, {
    latencyMs: 0,
    chunks: 8,
    chunkDelayMs: 0,
    textChars: 400,
    recordTimings: false,
  });
  const child = await startHelper('memory-service.ts', {
    nodeArgs: ['--expose-gc'],
    env: {
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MODELS_FILE: writeModelsFile(context, 'memory'),
      MEMORY_PROVIDER: context.memoryViaUpstream ? 'upstream' : 'inprocess',
      ANSWER_CHARS: '400',
      ANSWER_CHUNKS: '8',
      JOB_CONCURRENCY: String(concurrency),
      QUEUE_MAX: String(concurrency),
      MAX_RETAINED_ANALYSES: String(analyses * 2),
      ANALYSIS_TTL_SECONDS: '3600',
    },
  });
  try {
    const url = String(child.info.url);
    const run = async (count: number, prefix: string) => {
      const samples = await closedLoop({
        inFlight: concurrency,
        maxDurationMs: context.quick ? 30_000 : 240_000,
        maxAnalyses: count,
        tagPrefix: `${context.runId}-${prefix}`,
        serviceUrl: url,
        body: (tag) => ({
          prompt: `[bench:${tag}] How should a five-person team decide whether to split its monolith?`,
          models: MODEL_IDS.slice(0, 3),
        }),
      });
      const failed = samples.filter((sample) => !sample.outcome.ok);
      if (failed.length > 0)
        throw new Error(`${failed.length} analyses failed: ${failed[0]!.outcome.detail}`);
      if (samples.length < count) throw new Error(`only ${samples.length} of ${count} analyses ran in time`);
    };

    await run(warmup, 'mem-warm');
    await child.rpc.call('expire');
    const baseline = await child.rpc.call<Memory>('heap');

    const started = performance.now();
    await run(analyses, 'mem');
    const seconds = (performance.now() - started) / 1000;
    const retained = (await child.rpc.call<{ size: number }>('size')).size;
    const full = await child.rpc.call<Memory>('heap');

    const afterExpiry = await child.rpc.call<{ size: number }>('expire');
    const expired = await child.rpc.call<Memory>('heap');

    await run(smallBatch, 'mem-small');
    await child.rpc.call('expire');
    const afterSmall = await child.rpc.call<Memory>('heap');

    const perAnalysisKb = round((heapOf(full) - heapOf(baseline)) / analyses / 1024, 2);
    const afterExpiryRatio = round(heapOf(expired) / heapOf(baseline), 4);
    const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);
    return {
      figures: {
        analyses,
        provider: context.memoryViaUpstream ? 'fake upstream over HTTP' : 'in-process fake model',
        retained,
        retainedAfterExpiry: afterExpiry.size,
        perAnalysisKb,
        afterExpiryRatio,
        smallBatchAfterExpiryRatio: round(heapOf(afterSmall) / heapOf(baseline), 4),
        baselineHeapMb: mb(heapOf(baseline)),
        retainedHeapMb: mb(heapOf(full)),
        afterExpiryHeapMb: mb(heapOf(expired)),
        afterSmallBatchHeapMb: mb(heapOf(afterSmall)),
        externalMb: { baseline: mb(baseline.external), retained: mb(full.external) },
        retainedRssMb: mb(full.rss),
        analysesPerSecond: round(analyses / seconds, 1),
      },
      checks: {
        perAnalysis: {
          met: retained === analyses && perAnalysisKb <= 30,
          target: '≤ 30 KB of heap per retained analysis',
        },
        afterExpiry: {
          met: afterExpiry.size === 0 && afterExpiryRatio <= 1.1,
          target: 'heap back within 10% of the baseline after expiry',
        },
      },
    };
  } finally {
    await child.stop();
  }
}
