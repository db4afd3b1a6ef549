/**
 * SSE fan-out: many subscribers on one `standard` analysis (3 models) whose
 * models stream 8 chunks 20 ms apart in each stage. The upstream holds the
 * first calls until every subscriber is connected (they receive the history so
 * far on connect), then releases them; lag is measured only on events stamped
 * after the release.
 *
 * Full runs repeat Chorus-then-baseline three times and report the median of
 * the rounds' p99s (the machine's noise moves single rounds a lot).
 *
 * Lag, for Chorus and the baseline alike: the time a subscriber receives an
 * event minus the event's own `timestamp` (when the server stored — and at
 * once started writing — it). The baseline is a bare `node:http` server that
 * replays this run's Chorus event log, frame for frame, on the same schedule,
 * re-stamping each frame as it writes it to every subscriber. Both are read by
 * the same subscriber process.
 */
import { join } from 'node:path';
import { taggedPrompt } from '../lib/analysis.js';
import { httpRequest } from '../lib/http.js';
import { type Child, processCpuMs, type Service, startHelper } from '../lib/processes.js';
import { median, round as round2 } from '../lib/stats.js';
import { sleep } from '../lib/wait.js';
import type { BenchContext, ScenarioResult } from './context.js';
import { MODEL_IDS, markMeasurement, startScenarioService, writeModelsFile } from './service.js';
import { configureUpstream, INSTANT_UPSTREAM } from './upstream.js';

interface SubscriberReport {
  subscribers: number;
  ended: number;
  inOrder: boolean;
  terminal: boolean;
  errors: string[];
  minReceived: number;
  maxReceived: number;
  lagSamples: number;
  lag: { p50: number; p90: number; p99: number; max: number };
}

const STAMP = '"timestamp":"';

/** The frames of a finished analysis's stream, in order (a late subscriber gets the whole history). */
function framesOf(body: string): string[] {
  return body
    .split('\n\n')
    .filter((block) => block.startsWith('id: '))
    .map((block) => `${block}\n\n`);
}

const timestampOf = (frame: string) => {
  const at = frame.indexOf(STAMP) + STAMP.length;
  return Date.parse(frame.slice(at, at + 24));
};

interface Round {
  chorus: SubscriberReport;
  baseline: SubscriberReport;
  events: number;
  liveEvents: number;
  chorusCpuMs: number;
  baselineCpuMs: number;
}

async function oneRound(
  context: BenchContext,
  subscribers: Child,
  count: number,
  round: number,
): Promise<Round> {
  // Both servers start together (the bare one then idles while Chorus is measured).
  const [service, bare] = await Promise.all([
    startScenarioService(context, 'sse', {
      MODELS_FILE: writeModelsFile(context, 'default'),
      // The fan-out is the point: above the default cap of streams per analysis.
      MAX_SUBSCRIBERS_PER_ANALYSIS: String(count * 2),
    }),
    startHelper('bare-sse-server.ts', {
      nodeArgs: context.profileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${join(context.profileDir, 'sse', 'baseline')}`]
        : [],
    }),
  ]);
  try {
    return await measureRound(context, subscribers, count, round, service, bare);
  } finally {
    await bare.stop();
    await service.stop();
  }
}

async function measureRound(
  context: BenchContext,
  subscribers: Child,
  count: number,
  round: number,
  service: Service,
  bare: Child,
): Promise<Round> {
  const batch = 100;
  // Chorus.
  let chorus: SubscriberReport;
  let frames: string[];
  let releasedAt: number;
  let chorusCpuMs = 0;
  try {
    await context.upstream.rpc.call('hold');
    const created = await httpRequest('POST', `${service.url}/v1/analyses`, {
      prompt: taggedPrompt(`${context.runId}-sse-${round}`),
      models: MODEL_IDS.slice(0, 3),
    });
    if (created.status !== 202)
      throw new Error(`creating the analysis failed: ${created.status} ${created.body}`);
    const eventsUrl = `${service.url}${(JSON.parse(created.body) as { links: { events: string } }).links.events}`;
    await subscribers.rpc.call('reset');
    await subscribers.rpc.call('connect', { url: eventsUrl, count, batch }, 60_000);
    await sleep(200);
    markMeasurement(context, 'sse', service);
    chorusCpuMs = processCpuMs(service.pid);
    releasedAt = Date.now();
    await subscribers.rpc.call('mark', { liveFrom: releasedAt });
    await context.upstream.rpc.call('release');
    chorus = await subscribers.rpc.call<SubscriberReport>('wait', { timeoutMs: 60_000 }, 70_000);
    chorusCpuMs = processCpuMs(service.pid) - chorusCpuMs;
    const history = await httpRequest('GET', eventsUrl);
    frames = framesOf(history.body);
  } finally {
    await context.upstream.rpc.call('release');
  }
  await service.stop(); // nothing of it runs during the baseline

  // The bare server, replaying the same frames on the same schedule.
  let baseline: SubscriberReport;
  let baselineCpuMs = 0;
  {
    const history = frames.filter((frame) => timestampOf(frame) < releasedAt);
    const live = frames
      .filter((frame) => timestampOf(frame) >= releasedAt)
      .map((frame) => ({ offsetMs: timestampOf(frame) - releasedAt, frame }));
    await bare.rpc.call('load', { history, live });
    await subscribers.rpc.call('reset');
    await subscribers.rpc.call('connect', { url: String(bare.info.url), count, batch }, 60_000);
    await sleep(200);
    await subscribers.rpc.call('mark', { liveFrom: Date.now() });
    baselineCpuMs = processCpuMs(bare.pid);
    await bare.rpc.call('start');
    baseline = await subscribers.rpc.call<SubscriberReport>('wait', { timeoutMs: 60_000 }, 70_000);
    baselineCpuMs = processCpuMs(bare.pid) - baselineCpuMs;
  }
  return {
    chorus,
    baseline,
    events: frames.length,
    liveEvents: frames.filter((frame) => timestampOf(frame) >= releasedAt).length,
    chorusCpuMs,
    baselineCpuMs,
  };
}

export async function sseFanOut(context: BenchContext): Promise<ScenarioResult> {
  const count = context.quick ? 100 : 1000;
  const rounds = context.quick ? 1 : 3;
  await configureUpstream(context, { ...INSTANT_UPSTREAM, chunkDelayMs: 20 });
  const subscribers = await startHelper('sse-subscribers.ts');
  const results: Round[] = [];
  try {
    for (let round = 0; round < rounds; round++)
      results.push(await oneRound(context, subscribers, count, round));
  } finally {
    await subscribers.stop();
  }
  const receivedAll = (round: Round) =>
    round.chorus.subscribers === count &&
    round.chorus.ended === count &&
    round.chorus.inOrder &&
    round.chorus.terminal &&
    round.chorus.errors.length === 0 &&
    round.chorus.minReceived === round.events &&
    round.chorus.maxReceived === round.events;
  const allReceivedAll = results.every(receivedAll);
  const p99LagMs = round2(median(results.map((round) => round.chorus.lag.p99)));
  const baselineP99LagMs = round2(median(results.map((round) => round.baseline.lag.p99)));
  const last = results.at(-1)!;
  return {
    figures: {
      subscribers: count,
      rounds,
      events: last.events,
      liveEvents: last.liveEvents,
      allReceivedAll,
      p99LagMs,
      baselineP99LagMs,
      lagRatio: round2(p99LagMs / baselineP99LagMs, 4),
      roundP99LagMs: results.map((round) => round.chorus.lag.p99),
      roundBaselineP99LagMs: results.map((round) => round.baseline.lag.p99),
      serverCpuMs: {
        chorus: results.map((round) => round2(round.chorusCpuMs)),
        baseline: results.map((round) => round2(round.baselineCpuMs)),
      },
      lastRound: { chorus: last.chorus, baseline: last.baseline },
    },
    checks: {
      allReceivedAll: { met: allReceivedAll, target: 'every subscriber gets every event, in order' },
      p99Lag: {
        met: p99LagMs <= 1.5 * baselineP99LagMs,
        target: 'p99 delivery lag ≤ 1.5 × the bare server’s',
      },
    },
  };
}
