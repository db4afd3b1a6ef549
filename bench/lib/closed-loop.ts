/** Closed-loop load: a fixed number of analyses kept in flight, each worker starting the next as its last answers. */
import { type AnalysisOutcome, runAnalysis } from './analysis.js';
import { httpRequest } from './http.js';
import { sleep } from './wait.js';

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
