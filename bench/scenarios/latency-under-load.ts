/**
 * Latency under load (the load itself: load-service.ts) keeps 100 analyses in
 * flight and reports, per analysis started in the window, the end-to-end time
 * minus its critical path (the sum of each stage's slowest call, timed at the
 * upstream).
 */
import { summarize } from '../lib/stats.js';
import { criticalPathMs } from '../lib/time-breakdown.js';
import { sleep, waitUntil } from '../lib/wait.js';
import type { BenchContext, ScenarioResult } from './context.js';
import {
  deploymentFigures,
  markDeploymentMeasurement,
  startLoadService,
  startStandardLoop,
  upstreamFor,
} from './load-service.js';
import { configureUpstream, upstreamTimings } from './upstream.js';

export async function latencyUnderLoad(context: BenchContext): Promise<ScenarioResult> {
  const inFlight = context.quick ? 20 : 100;
  const measureMs = context.quick ? 1_500 : 12_000;
  await configureUpstream(context, { ...upstreamFor(context), recordTimings: true });
  const deployment = await startLoadService(context, 'latencyUnderLoad');
  const service = deployment.api;
  try {
    await upstreamTimings(context);
    const loop = startStandardLoop(context, service.url, {
      inFlight,
      rampMs: context.quick ? 300 : 1_000,
      maxDurationMs: 60_000,
      maxAnalyses: 50_000,
      tag: 'lul',
    });
    await waitUntil(
      () => loop.completed >= inFlight,
      context.quick ? 500 : 2_000,
      context.quick ? 3_000 : 15_000,
    );
    markDeploymentMeasurement(context, 'latencyUnderLoad', deployment);
    const measureFrom = performance.now();
    await sleep(measureMs);
    const measureTo = performance.now();
    loop.stop();
    const samples = await loop.done;
    const timings = await upstreamTimings(context);
    const measured = samples.filter(
      (sample) => sample.startedAt >= measureFrom && sample.startedAt < measureTo,
    );
    const added: number[] = [];
    let unmatched = 0;
    for (const sample of measured) {
      const critical = criticalPathMs(timings[sample.tag] ?? [], [3, 3, 1]);
      if (!sample.outcome.ok || critical === undefined) unmatched++;
      else added.push(sample.outcome.ms - critical);
    }
    const failed = samples.filter((sample) => !sample.outcome.ok);
    const addedSummary = summarize(added);
    const p99AddedMs = addedSummary.p99;
    return {
      figures: {
        ...deploymentFigures(context),
        inFlight,
        analyses: samples.length,
        measured: added.length,
        failed: failed.length,
        ...(failed[0] ? { firstFailure: failed[0].outcome.detail } : {}),
        unmatched,
        p99AddedMs,
        addedMs: addedSummary,
        endToEndMs: summarize(
          measured.filter((sample) => sample.outcome.ok).map((sample) => sample.outcome.ms),
        ),
      },
      checks: {
        p99AddedMs: {
          met: failed.length === 0 && added.length > 0 && p99AddedMs <= 100,
          target: 'p99 added latency over the critical path ≤ 100 ms (and no failure)',
        },
      },
    };
  } finally {
    await deployment.stop();
  }
}
