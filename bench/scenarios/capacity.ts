/**
 * Capacity (the load itself: load-service.ts) keeps 1,000 in flight and
 * measures, over the window, model calls per second (calls the upstream
 * completed) and the service process's CPU per model call (/proc utime+stime).
 * The baseline is a bare script making the same streamed calls with the
 * `openai` client, keeping as many calls in flight as Chorus keeps analyses
 * (1,000; Chorus then has at least that many calls in flight, up to 3 per
 * analysis), measured the same way over a window of the same length. At that
 * concurrency both are bound by CPU, not by the upstream's latency.
 */
import type { LoopSample } from '../lib/closed-loop.js';
import { deploymentCpuMs, redisServerPid } from '../lib/deployment.js';
import { type Child, processCpuMs, startHelper } from '../lib/processes.js';
import { round, summarize } from '../lib/stats.js';
import { sleep, waitUntil } from '../lib/wait.js';
import type { BenchContext, ScenarioResult } from './context.js';
import {
  deploymentFigures,
  markDeploymentMeasurement,
  startLoadService,
  startStandardLoop,
  upstreamFor,
} from './load-service.js';
import { configureUpstream, upstreamStats } from './upstream.js';

interface WindowResult {
  seconds: number;
  calls: number;
  cpuMs: number;
  /** Per process of the deployment (the bare client: one). */
  cpuMsByProcess: Record<string, number>;
  /** Redis's own CPU over the window, when the deployment uses it. */
  redisCpuMs?: number;
  meanInFlight: number;
}

/**
 * Measures `measureMs` of upstream calls completed and the processes' CPU
 * (summed), and apart from it Redis's when `redisPid` is given.
 */
async function measureWindow(
  context: BenchContext,
  pids: Record<string, number>,
  measureMs: number,
  redisPid?: number,
): Promise<WindowResult> {
  const before = await upstreamStats(context);
  const cpuBefore = deploymentCpuMs(pids);
  const redisBefore = redisPid === undefined ? 0 : processCpuMs(redisPid);
  const started = performance.now();
  const inFlight: number[] = [];
  while (performance.now() - started < measureMs) {
    await sleep(Math.min(500, measureMs - (performance.now() - started)));
    inFlight.push((await upstreamStats(context)).inFlight);
  }
  const after = await upstreamStats(context);
  const cpuAfter = deploymentCpuMs(pids);
  const seconds = (performance.now() - started) / 1000;
  const cpuMsByProcess: Record<string, number> = {};
  for (const name of Object.keys(pids)) {
    cpuMsByProcess[name] = round((cpuAfter.byProcess[name] ?? 0) - (cpuBefore.byProcess[name] ?? 0), 0);
  }
  return {
    seconds,
    calls: after.completed - before.completed,
    cpuMs: cpuAfter.total - cpuBefore.total,
    cpuMsByProcess,
    ...(redisPid === undefined ? {} : { redisCpuMs: round(processCpuMs(redisPid) - redisBefore, 0) }),
    meanInFlight: inFlight.reduce((sum, value) => sum + value, 0) / Math.max(1, inFlight.length),
  };
}

export async function capacity(context: BenchContext): Promise<ScenarioResult> {
  const inFlight = context.quick ? 100 : 1000;
  const measureMs = context.quick ? 1_500 : 10_000;
  await configureUpstream(context, { ...upstreamFor(context), recordTimings: false });

  // Chorus (the baseline's process starts meanwhile, and idles until Chorus is done).
  const starting = startHelper('bare-client.ts', { env: { UPSTREAM_URL: context.upstreamUrl, MODEL: 'm1' } });
  let client: Child | undefined;
  const deployment = await startLoadService(context, 'capacity');
  const service = deployment.api;
  let chorus: WindowResult;
  let samples: LoopSample[];
  let warmupSeconds: number;
  try {
    const began = performance.now();
    const loop = startStandardLoop(context, service.url, {
      inFlight,
      rampMs: context.quick ? 300 : 2_000,
      maxDurationMs: 120_000,
      maxAnalyses: 500_000,
      tag: 'cap',
    });
    try {
      // Quick runs only wait for the first analyses to come back.
      await waitUntil(
        () => loop.completed >= (context.quick ? 1 : inFlight),
        context.quick ? 0 : 3_000,
        15_000,
      );
      client = await starting; // started alongside the warm-up, ready before the window opens
      warmupSeconds = (performance.now() - began) / 1000;
      markDeploymentMeasurement(context, 'capacity', deployment);
      // Redis's CPU is Chorus's cost too, but shared infrastructure: reported apart, not summed.
      const redisPid = context.store === 'redis' ? redisServerPid() : undefined;
      chorus = await measureWindow(context, deployment.pids, measureMs, redisPid);
    } finally {
      loop.stop();
    }
    samples = await loop.done;
  } catch (error) {
    await (client ?? (await starting.catch(() => undefined)))?.stop();
    throw error;
  } finally {
    await deployment.stop();
  }
  client ??= await starting;
  const succeeded = samples.filter((sample) => sample.outcome.ok).length;
  const firstFailure = samples.find((sample) => !sample.outcome.ok)?.outcome.detail;

  // The bare client, with as many calls in flight as Chorus has analyses.
  const concurrency = inFlight;
  let bare: WindowResult;
  let bareCounts: { succeeded: number; failed: number; firstError?: string };
  try {
    await client.rpc.call('start', { concurrency });
    await sleep(context.quick ? 500 : 3_000);
    bare = await measureWindow(context, { client: client.pid }, measureMs);
    bareCounts = await client.rpc.call('stop', {}, 60_000);
  } finally {
    await client.stop();
  }

  const modelCallsPerSecond = round(chorus.calls / chorus.seconds, 1);
  const baselineCallsPerSecond = round(bare.calls / bare.seconds, 1);
  const cpuMsPerModelCall = round(chorus.cpuMs / Math.max(1, chorus.calls), 4);
  const baselineCpuMsPerCall = round(bare.cpuMs / Math.max(1, bare.calls), 4);
  return {
    figures: {
      ...deploymentFigures(context),
      inFlight,
      total: samples.length,
      succeeded,
      ...(firstFailure ? { firstFailure } : {}),
      modelCallsPerSecond,
      baselineCallsPerSecond,
      cpuMsPerModelCall,
      baselineCpuMsPerCall,
      callsRatio: round(modelCallsPerSecond / baselineCallsPerSecond, 4),
      cpuRatio: round(cpuMsPerModelCall / baselineCpuMsPerCall, 4),
      warmupSeconds: round(warmupSeconds, 1),
      windowSeconds: round(chorus.seconds, 2),
      serviceCoresBusy: round(chorus.cpuMs / 1000 / chorus.seconds, 2),
      cpuMsByProcess: chorus.cpuMsByProcess,
      ...(chorus.redisCpuMs === undefined
        ? {}
        : {
            redisCpuMs: chorus.redisCpuMs,
            redisCpuMsPerModelCall: round(chorus.redisCpuMs / Math.max(1, chorus.calls), 4),
          }),
      baselineCoresBusy: round(bare.cpuMs / 1000 / bare.seconds, 2),
      meanUpstreamCallsInFlight: round(chorus.meanInFlight, 1),
      baselineConcurrency: concurrency,
      baselineMeanUpstreamCallsInFlight: round(bare.meanInFlight, 1),
      baselineCalls: bareCounts,
      analysisMs: summarize(samples.filter((sample) => sample.outcome.ok).map((sample) => sample.outcome.ms)),
    },
    checks: {
      allSucceeded: {
        met: samples.length > 0 && succeeded === samples.length,
        target: 'every analysis succeeds',
      },
      cpu: {
        met: cpuMsPerModelCall <= 1.5 * baselineCpuMsPerCall,
        target: 'service CPU per model call ≤ 1.5 × the bare client’s',
      },
      throughput: {
        met: modelCallsPerSecond >= 0.6 * baselineCallsPerSecond,
        target: 'model calls per second ≥ 0.6 × the bare client’s',
      },
    },
  };
}
