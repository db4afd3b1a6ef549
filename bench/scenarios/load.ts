/**
 * Load: closed loops of `standard` analyses (3 models) against a 500 ms
 * upstream whose answers are 8 chunks (5 ms apart) of about 400 characters.
 * Workers start spread over a short ramp; measurement begins after a warm-up
 * of at least one generation (as many analyses answered as are kept in
 * flight, within a time cap), so the window sees a steady state.
 *
 * Latency under load keeps 100 analyses in flight and reports, per analysis
 * started in the window, the end-to-end time minus its critical path (the sum
 * of each stage's slowest call, timed at the upstream).
 *
 * Capacity keeps 1,000 in flight and measures, over the window, model calls
 * per second (calls the upstream completed) and the service process's CPU per
 * model call (/proc utime+stime). The baseline is a bare script making the
 * same streamed calls with the `openai` client, keeping as many calls in
 * flight as Chorus keeps analyses (1,000; Chorus then has at least that many
 * calls in flight, up to 3 per analysis), measured the same way over a window
 * of the same length. At that concurrency both are bound by CPU, not by the
 * upstream's latency.
 *
 * With `--store=redis --workers=N` both loops run against one API process and
 * N worker processes on Redis; the CPU per model call is then the sum over
 * those processes (each reported too), and Redis's own CPU is reported apart.
 */
import { join } from 'node:path';
import { type Deployment, deploymentCpuMs, redisServerPid, startRedisDeployment } from '../lib/deployment.js';
import { type Child, processCpuMs, type Service, startHelper } from '../lib/processes.js';
import { round, summarize } from '../lib/stats.js';
import {
  type BenchContext,
  configureUpstream,
  criticalPathMs,
  MODEL_IDS,
  markMeasurement,
  markProcessesMeasurement,
  type ScenarioResult,
  sleep,
  startClosedLoop,
  startScenarioService,
  taggedPrompt,
  upstreamStats,
  upstreamTimings,
  waitUntil,
  writeModelsFile,
} from './common.js';

const UPSTREAM = { latencyMs: 500, chunks: 8, chunkDelayMs: 5, textChars: 400 };
/** Quick runs (CI: does it still work?) wait 200 ms upstream, so warm-up and drain stay short. */
const upstreamFor = (context: BenchContext) => ({ ...UPSTREAM, latencyMs: context.quick ? 200 : 500 });

/** Provider and job limits well above the load, so neither is the bottleneck. */
function loadServiceEnv(context: BenchContext): Record<string, string> {
  return {
    MODELS_FILE: writeModelsFile(context, 'load', 10_000),
    JOB_CONCURRENCY: '1000',
    QUEUE_MAX: '1000',
    MAX_RETAINED_ANALYSES: '10000',
  };
}

/**
 * The service under load: one process as in every scenario, or with
 * `--store=redis` an API process and `--workers` worker processes on Redis.
 */
async function startLoadService(context: BenchContext, scenario: string): Promise<Deployment> {
  const env = loadServiceEnv(context);
  if (context.store === 'memory') {
    const service = await startScenarioService(context, scenario, env);
    return {
      url: service.url,
      api: service,
      workers: [],
      pids: { service: service.pid },
      stop: service.stop,
    };
  }
  return startRedisDeployment(env, {
    workers: context.workers,
    redisUrl: context.redisUrl,
    prefix: `chorus-bench-${context.runId}-${scenario}`,
    cpuProfileDir: context.profileDir ? join(context.profileDir, scenario) : undefined,
  });
}

/**
 * Marks the measurement's start in every process's CPU profile: the one
 * service's, or the API's and each worker's (profiled in sub-folders of
 * their own).
 */
function markDeploymentMeasurement(context: BenchContext, scenario: string, deployment: Deployment): void {
  if (deployment.workers.length === 0) {
    markMeasurement(context, scenario, deployment.api);
    return;
  }
  const services: Record<string, Service> = { api: deployment.api };
  deployment.workers.forEach((worker, index) => {
    services[`worker${index + 1}`] = worker;
  });
  markProcessesMeasurement(context, scenario, services);
}

/** The deployment's description in the figures. */
const deploymentFigures = (context: BenchContext) =>
  context.store === 'memory' ? { store: 'memory' } : { store: 'redis', workers: context.workers };

const standardBody = (tag: string) => ({ prompt: taggedPrompt(tag), models: MODEL_IDS.slice(0, 3) });

export async function latencyUnderLoad(context: BenchContext): Promise<ScenarioResult> {
  const inFlight = context.quick ? 20 : 100;
  const measureMs = context.quick ? 1_500 : 12_000;
  await configureUpstream(context, { ...upstreamFor(context), recordTimings: true });
  const deployment = await startLoadService(context, 'latencyUnderLoad');
  const service = deployment.api;
  try {
    await upstreamTimings(context);
    const loop = startClosedLoop({
      inFlight,
      rampMs: context.quick ? 300 : 1_000,
      maxDurationMs: 60_000,
      maxAnalyses: 50_000,
      tagPrefix: `${context.runId}-lul`,
      serviceUrl: service.url,
      body: standardBody,
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
  let samples: Awaited<ReturnType<typeof startClosedLoop>>['samples'];
  let warmupSeconds: number;
  try {
    const began = performance.now();
    const loop = startClosedLoop({
      inFlight,
      rampMs: context.quick ? 300 : 2_000,
      maxDurationMs: 120_000,
      maxAnalyses: 500_000,
      tagPrefix: `${context.runId}-cap`,
      serviceUrl: service.url,
      body: standardBody,
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
