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
 * 5. Large metadata: 1,000 (quick 100) analyses, each with metadata just under
 *    MAX_METADATA_BYTES, retained — heap per analysis, and the bytes the store
 *    counts per analysis (what MAX_RETAINED_BYTES bounds).
 * 6. Oversized: 20 analyses with the 1.8 MB metadata of the issue that
 *    exhausted memory — how many the service accepts (none, now) and the heap
 *    they hold.
 */

import { closedLoop } from '../lib/closed-loop.js';
import { postJson } from '../lib/http.js';
import { startHelper } from '../lib/processes.js';
import { round } from '../lib/stats.js';
import type { BenchContext, ScenarioResult } from './context.js';
import { MODEL_IDS, writeModelsFile } from './service.js';
import { configureUpstream, INSTANT_UPSTREAM } from './upstream.js';

interface Memory {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  heapTotal: number;
  rss: number;
}

const heapOf = (memory: Memory) => memory.heapUsed + memory.external;

/** Metadata of about `bytes` bytes as JSON: 8 string values, distinct per analysis. */
export function largeMetadata(tag: string, bytes: number): Record<string, string> {
  const keys = 8;
  // Each entry costs its key, quotes, a colon and a comma besides the value.
  const valueLength = Math.floor((bytes - 2) / keys) - 12;
  const metadata: Record<string, string> = {};
  for (let index = 0; index < keys; index++) {
    const head = `${tag}:${index}:`;
    metadata[`field${index}`] = head + 'x'.repeat(Math.max(0, valueLength - head.length));
  }
  return metadata;
}

/** The default MAX_METADATA_BYTES, less a little: the largest metadata a client may send. */
const LARGE_METADATA_BYTES = 16 * 1024 - 64;
const OVERSIZED_METADATA_BYTES = 1_870_000;

export async function memory(context: BenchContext): Promise<ScenarioResult> {
  const analyses = context.quick ? 200 : 10_000;
  const warmup = context.quick ? 100 : 1_100;
  const smallBatch = context.quick ? 50 : 300;
  const concurrency = 64;
  await configureUpstream(context, INSTANT_UPSTREAM);
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
      // Retention by bytes must not evict what is being measured.
      MAX_RETAINED_BYTES: String(4 * 1024 * 1024 * 1024),
      ANALYSIS_TTL_SECONDS: '3600',
    },
  });
  try {
    const url = String(child.info.url);
    const run = async (
      count: number,
      prefix: string,
      metadata: (tag: string) => Record<string, string> | undefined = () => undefined,
    ) => {
      const samples = await closedLoop({
        inFlight: concurrency,
        maxDurationMs: context.quick ? 30_000 : 240_000,
        maxAnalyses: count,
        tagPrefix: `${context.runId}-${prefix}`,
        serviceUrl: url,
        body: (tag) => ({
          prompt: `[bench:${tag}] How should a five-person team decide whether to split its monolith?`,
          models: MODEL_IDS.slice(0, 3),
          ...(metadata(tag) ? { metadata: metadata(tag) } : {}),
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

    // Large metadata, near the allowed maximum.
    const largeCount = context.quick ? 100 : 1_000;
    const largeBaseline = await child.rpc.call<Memory>('heap');
    const bytesBefore = (await child.rpc.call<{ bytes: number | null }>('bytes')).bytes;
    await run(largeCount, 'mem-large', (tag) => largeMetadata(tag, LARGE_METADATA_BYTES));
    const largeFull = await child.rpc.call<Memory>('heap');
    const bytesAfter = (await child.rpc.call<{ bytes: number | null }>('bytes')).bytes;
    await child.rpc.call('expire');

    // The attack: metadata of 1.8 MB per analysis.
    const oversizedBaseline = await child.rpc.call<Memory>('heap');
    const oversizedStatuses: Record<string, number> = {};
    for (let index = 0; index < 20; index++) {
      const tag = `${context.runId}-mem-oversized-${index}`;
      const answer = await postJson(
        `${url}/v1/analyses`,
        {
          prompt: `[bench:${tag}] How should a five-person team decide whether to split its monolith?`,
          models: MODEL_IDS.slice(0, 3),
          metadata: largeMetadata(tag, OVERSIZED_METADATA_BYTES),
        },
        { prefer: 'wait=60' },
        90_000,
      );
      oversizedStatuses[answer.status] = (oversizedStatuses[answer.status] ?? 0) + 1;
    }
    const oversizedFull = await child.rpc.call<Memory>('heap');
    await child.rpc.call('expire');

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
        largeMetadata: {
          analyses: largeCount,
          metadataBytes: LARGE_METADATA_BYTES,
          perAnalysisKb: round((heapOf(largeFull) - heapOf(largeBaseline)) / largeCount / 1024, 2),
          storeBytesPerAnalysisKb:
            bytesBefore === null || bytesAfter === null
              ? null
              : round((bytesAfter - bytesBefore) / largeCount / 1024, 2),
        },
        oversizedMetadata: {
          analyses: 20,
          metadataBytes: OVERSIZED_METADATA_BYTES,
          statuses: oversizedStatuses,
          heapHeldMb: mb(heapOf(oversizedFull) - heapOf(oversizedBaseline)),
        },
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
