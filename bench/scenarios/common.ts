/** What every scenario shares: the run's context, the models file, analysis requests and load loops. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpRequest, postJson } from '../lib/http.js';
import type { Child, Service } from '../lib/processes.js';
import { startService } from '../lib/processes.js';

export interface BenchContext {
  quick: boolean;
  /** A fresh temporary directory for this run (models files, profiles). */
  tmpDir: string;
  /** Where to write CPU profiles of the service (`--profile`), else undefined. */
  profileDir: string | undefined;
  /** The fake upstream, shared by every scenario (reconfigured by each). */
  upstream: Child;
  upstreamUrl: string;
  /** A unique word per run, so tags never collide across services. */
  runId: string;
  /** `--memory-upstream`: the memory scenario calls the fake upstream over HTTP (slow) instead of an in-process model. */
  memoryViaUpstream: boolean;
  /**
   * Per scenario (or `<scenario>/<process>` for a deployment of several), how
   * far into the service's life its measurement began (profiles leave out
   * what came before).
   */
  profileSkipMs: Record<string, number>;
  /** Quick runs share one service between scenarios that configure it alike (start-up is most of their time). */
  sharedServices: Map<string, Promise<Service>>;
  /** `--store`: the load scenarios' deployment (memory: one process; redis: an API process and workers). */
  store: 'memory' | 'redis';
  /** `--workers`: worker processes with `--store=redis`. */
  workers: number;
  redisUrl: string;
  log(message: string): void;
}

export interface UpstreamSettings {
  latencyMs: number;
  chunks: number;
  chunkDelayMs: number;
  textChars: number;
  recordTimings: boolean;
}

export const configureUpstream = (context: BenchContext, settings: UpstreamSettings) =>
  context.upstream.rpc.call('configure', settings);

export interface UpstreamStats {
  started: number;
  completed: number;
  inFlight: number;
  maxInFlight: number;
}

export const upstreamStats = (context: BenchContext) => context.upstream.rpc.call<UpstreamStats>('stats');
export const upstreamTimings = (context: BenchContext) =>
  context.upstream.rpc.call<Record<string, number[][]>>('timings');

export const MODEL_IDS = Array.from({ length: 12 }, (_, index) => `fake/m${index + 1}`);

/**
 * A MODELS_FILE with one OpenAI-compatible provider `fake` (models m1…m12,
 * m1 weighing most, so it is the synthesis model) pointing at the fake
 * upstream. `concurrency` unset leaves the service's default provider limit.
 */
export function writeModelsFile(context: BenchContext, name: string, concurrency?: number): string {
  const lines = [
    'providers:',
    '  - name: fake',
    '    kind: openai-compatible',
    `    baseURL: ${context.upstreamUrl}`,
    '    timeoutMs: 120000',
    ...(concurrency === undefined ? [] : [`    concurrency: ${concurrency}`]),
    '    models:',
    ...MODEL_IDS.map((id, index) => `      - { id: ${id.slice(5)}, weight: ${12 - index} }`),
  ];
  const path = join(context.tmpDir, `${name}.models.yaml`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * Starts the built service for one scenario (under --cpu-prof when
 * profiling). Quick runs reuse a running service with the same environment;
 * its `stop()` is then left to the driver's end (`stopSharedServices`).
 */
export async function startScenarioService(
  context: BenchContext,
  scenario: string,
  env: Record<string, string>,
): Promise<Service> {
  if (!context.quick || context.profileDir) {
    return startService(env, {
      cpuProfileDir: context.profileDir ? join(context.profileDir, scenario) : undefined,
    });
  }
  const key = JSON.stringify(env);
  let shared = context.sharedServices.get(key);
  if (!shared) {
    shared = startService(env);
    context.sharedServices.set(key, shared);
  }
  const service = await shared;
  return { ...service, stop: async () => {} };
}

export async function stopSharedServices(context: BenchContext): Promise<void> {
  const services = await Promise.allSettled(context.sharedServices.values());
  context.sharedServices.clear();
  for (const service of services) if (service.status === 'fulfilled') await service.value.stop();
}

/** Marks the start of a scenario's measurement, so its CPU profile leaves out start-up and warm-up. */
export function markMeasurement(context: BenchContext, scenario: string, service: Service): void {
  context.profileSkipMs[scenario] = performance.now() - service.spawnedAt;
}

/**
 * The same for a deployment of several processes, whose profiles sit in
 * sub-folders named after them (`<scenario>/api`, `<scenario>/worker1`, …):
 * each process started at its own time, so each gets its own skip.
 */
export function markProcessesMeasurement(
  context: BenchContext,
  scenario: string,
  services: Record<string, Service>,
): void {
  const now = performance.now();
  for (const [name, service] of Object.entries(services)) {
    context.profileSkipMs[`${scenario}/${name}`] = now - service.spawnedAt;
  }
}

/** A prompt no other analysis of the run has sent, carrying a tag the fake upstream can read back. */
export function taggedPrompt(tag: string): string {
  return `[bench:${tag}] How should a five-person team decide whether to split its monolith into services?`;
}

export interface AnalysisOutcome {
  ok: boolean;
  ms: number;
  status: number;
  detail?: string;
}

/** One analysis with `Prefer: wait=60`: ok when the answer is 200 with a succeeded record. */
export async function runAnalysis(
  serviceUrl: string,
  body: Record<string, unknown>,
): Promise<AnalysisOutcome> {
  try {
    const answer = await postJson(`${serviceUrl}/v1/analyses`, body, { prefer: 'wait=60' }, 90_000);
    if (answer.status !== 200) {
      return { ok: false, ms: answer.ms, status: answer.status, detail: answer.body.slice(0, 300) };
    }
    const record = JSON.parse(answer.body) as { status?: string; error?: unknown };
    const ok = record.status === 'succeeded';
    return {
      ok,
      ms: answer.ms,
      status: answer.status,
      ...(ok ? {} : { detail: `status ${record.status}: ${JSON.stringify(record.error)}` }),
    };
  } catch (error) {
    return { ok: false, ms: Number.NaN, status: 0, detail: String(error) };
  }
}

/**
 * One analysis's calls (`[start, end]` as the upstream timed them) split into
 * its stages. Stage k+1 starts only after every call of stage k has ended, so
 * sorted by arrival the calls fall into stages of the known sizes (`[m, m, 1]`
 * for `standard` with m models). Undefined when the count does not match.
 */
function stagesOf(calls: number[][], stageSizes: number[]): number[][][] | undefined {
  const expected = stageSizes.reduce((sum, size) => sum + size, 0);
  if (calls.length !== expected) return undefined;
  const sorted = [...calls].sort((a, b) => a[0]! - b[0]!);
  const stages: number[][][] = [];
  let index = 0;
  for (const size of stageSizes) {
    stages.push(sorted.slice(index, index + size));
    index += size;
  }
  return stages;
}

const slowestOf = (stage: number[][]) => Math.max(...stage.map(([start, end]) => end! - start!));

/** The sum over stages of each stage's slowest call (see stagesOf). */
export function criticalPathMs(calls: number[][], stageSizes: number[]): number | undefined {
  return stagesOf(calls, stageSizes)?.reduce((total, stage) => total + slowestOf(stage), 0);
}

/**
 * Where an analysis's time beyond its critical path went, from the client's
 * send and receive times and the upstream's call timings (both epoch
 * milliseconds on one machine): before the first call arrived (`leadIn`:
 * request, validation, start), within stages beyond their slowest call
 * (`stageSkew`: calls sent or read one after another), between one stage's
 * last answer and the next stage's first call (`stageGaps`), and after the
 * last answer (`tail`: finishing and the response). They add up to
 * end-to-end minus critical path.
 */
export function timeBreakdown(
  calls: number[][],
  stageSizes: number[],
  sentAt: number,
  receivedAt: number,
): { leadInMs: number; stageSkewMs: number; stageGapsMs: number; tailMs: number } | undefined {
  const stages = stagesOf(calls, stageSizes);
  if (!stages) return undefined;
  let stageSkewMs = 0;
  let stageGapsMs = 0;
  let previousEnd: number | undefined;
  for (const stage of stages) {
    const first = Math.min(...stage.map((call) => call[0]!));
    const last = Math.max(...stage.map((call) => call[1]!));
    stageSkewMs += last - first - slowestOf(stage);
    if (previousEnd !== undefined) stageGapsMs += first - previousEnd;
    previousEnd = last;
  }
  return {
    leadInMs: stages[0]![0]![0]! - sentAt,
    stageSkewMs,
    stageGapsMs,
    tailMs: receivedAt - previousEnd!,
  };
}

export interface LoopSample {
  tag: string;
  startedAt: number;
  endedAt: number;
  outcome: AnalysisOutcome;
}

export interface ClosedLoopOptions {
  inFlight: number;
  /** Workers start spread over this many milliseconds (so they do not move in lockstep). */
  rampMs?: number;
  /** Stop starting analyses after this many milliseconds (a bound, whatever happens). */
  maxDurationMs: number;
  /** Stop starting analyses after this many (a bound, whatever the speed). */
  maxAnalyses: number;
  body: (tag: string) => Record<string, unknown>;
  tagPrefix: string;
  serviceUrl: string;
}

export interface ClosedLoop {
  samples: LoopSample[];
  /** Analyses that have answered so far. */
  readonly completed: number;
  /** Start no more analyses; `done` resolves once those in flight have answered. */
  stop(): void;
  done: Promise<LoopSample[]>;
}

/**
 * Keeps `inFlight` analyses running: each worker starts the next one as soon
 * as its previous one answers, until stopped or a bound is reached.
 */
export function startClosedLoop(options: ClosedLoopOptions): ClosedLoop {
  const samples: LoopSample[] = [];
  let stopAt = Number.POSITIVE_INFINITY;
  let stopped = false;
  let sequence = 0;
  const going = () => !stopped && performance.now() < stopAt && sequence < options.maxAnalyses;
  const worker = async (index: number) => {
    if (options.rampMs) await sleep((options.rampMs * index) / options.inFlight);
    while (going()) {
      const tag = `${options.tagPrefix}-${sequence++}`;
      const startedAt = performance.now();
      const outcome = await runAnalysis(options.serviceUrl, options.body(tag));
      samples.push({ tag, startedAt, endedAt: performance.now(), outcome });
    }
  };
  const done = openConnections(options.serviceUrl, options.inFlight).then(async () => {
    stopAt = performance.now() + options.maxDurationMs;
    await Promise.all(Array.from({ length: options.inFlight }, (_, index) => worker(index)));
    return samples;
  });
  return {
    samples,
    get completed() {
      return samples.length;
    },
    stop: () => {
      stopped = true;
    },
    done,
  };
}

/**
 * Opens `count` keep-alive connections to the service before the load starts
 * (waves of concurrent `GET /healthz`, 200 new sockets each), so the load
 * itself never waits on connection set-up: a busy service accepts slowly, and
 * connections queued past its accept backlog wait seconds for a SYN retry.
 */
export async function openConnections(serviceUrl: string, count: number): Promise<void> {
  for (let open = Math.min(200, count); ; open = Math.min(open + 200, count)) {
    await Promise.all(Array.from({ length: open }, () => httpRequest('GET', `${serviceUrl}/healthz`)));
    if (open >= count) return;
  }
}

/** Runs a closed loop to its bounds. */
export function closedLoop(options: ClosedLoopOptions): Promise<LoopSample[]> {
  return startClosedLoop(options).done;
}

/** Waits until `ready()` or `maxMs` (checking every 100 ms), but at least `minMs`. */
export async function waitUntil(ready: () => boolean, minMs: number, maxMs: number): Promise<void> {
  const started = performance.now();
  await sleep(minMs);
  while (!ready() && performance.now() - started < maxMs) await sleep(100);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ScenarioResult {
  /** The figures (the keys the issue names, plus context). */
  figures: Record<string, unknown>;
  /** Target name → [met, human-readable target]. */
  checks: Record<string, { met: boolean; target: string }>;
}
