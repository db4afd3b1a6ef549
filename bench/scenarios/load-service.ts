/**
 * The load scenarios' common ground (latency-under-load.ts, capacity.ts):
 * closed loops of `standard` analyses (3 models) against a 500 ms upstream
 * whose answers are 8 chunks (5 ms apart) of about 400 characters. Workers
 * start spread over a short ramp; measurement begins after a warm-up of at
 * least one generation (as many analyses answered as are kept in flight,
 * within a time cap), so the window sees a steady state.
 *
 * With `--store=redis --workers=N` both loops run against one API process and
 * N worker processes on Redis; the CPU per model call is then the sum over
 * those processes (each reported too), and Redis's own CPU is reported apart.
 */
import { join } from 'node:path';
import { taggedPrompt } from '../lib/analysis.js';
import { startClosedLoop } from '../lib/closed-loop.js';
import { type Deployment, startRedisDeployment } from '../lib/deployment.js';
import type { Service } from '../lib/processes.js';
import type { BenchContext } from './context.js';
import {
  MODEL_IDS,
  markMeasurement,
  markProcessesMeasurement,
  startScenarioService,
  writeModelsFile,
} from './service.js';

const UPSTREAM = { latencyMs: 500, chunks: 8, chunkDelayMs: 5, textChars: 400 };
/** Quick runs (CI: does it still work?) wait 200 ms upstream, so warm-up and drain stay short. */
export const upstreamFor = (context: BenchContext) => ({ ...UPSTREAM, latencyMs: context.quick ? 200 : 500 });

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
export async function startLoadService(context: BenchContext, scenario: string): Promise<Deployment> {
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
export function markDeploymentMeasurement(
  context: BenchContext,
  scenario: string,
  deployment: Deployment,
): void {
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
export const deploymentFigures = (context: BenchContext) =>
  context.store === 'memory' ? { store: 'memory' } : { store: 'redis', workers: context.workers };

const standardBody = (tag: string) => ({ prompt: taggedPrompt(tag), models: MODEL_IDS.slice(0, 3) });

/** Bounds of a closed loop of `standard` analyses (see startStandardLoop). */
export interface StandardLoopOptions {
  inFlight: number;
  rampMs: number;
  maxDurationMs: number;
  maxAnalyses: number;
  /** Tags are `<runId>-<tag>-<sequence>`. */
  tag: string;
}

/** Keeps `inFlight` `standard` analyses (3 models, tagged prompts) running against the service. */
export function startStandardLoop(context: BenchContext, serviceUrl: string, options: StandardLoopOptions) {
  const { tag, ...bounds } = options;
  return startClosedLoop({
    ...bounds,
    tagPrefix: `${context.runId}-${tag}`,
    serviceUrl,
    body: standardBody,
  });
}
