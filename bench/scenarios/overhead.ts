/**
 * Overhead: what Chorus adds to one model call. Sequential single-model,
 * one-stage analyses (`single` pattern, `Prefer: wait`) interleaved call by
 * call with (a) the same streamed call made directly with the `openai` client
 * and (b) the floor, a minimal Fastify server that makes that call and answers
 * its text. Per index i the three calls run back to back (their order rotates),
 * and the added latency of Chorus is `chorus_i − direct_i` (the floor's,
 * `floor_i − direct_i`). The calls are cut into rounds; the figure is the
 * median of the rounds' medians, and the p99 of all paired differences.
 */

import { runAnalysis, taggedPrompt } from '../lib/analysis.js';
import { httpRequest, postJson } from '../lib/http.js';
import { openaiClient, streamedCall } from '../lib/openai-call.js';
import { processCpuMs, startHelper } from '../lib/processes.js';
import { median, quantile, round, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioResult } from './context.js';
import { markMeasurement, startScenarioService, writeModelsFile } from './service.js';
import { configureUpstream, INSTANT_UPSTREAM } from './upstream.js';

export const SINGLE_PATTERN = {
  name: 'single',
  title: 'Single',
  description: 'One model answers the prompt: one stage, one call.',
  stages: [{ name: 'answer', mode: 'each', template: '{{prompt}}' }],
};

export async function overhead(context: BenchContext): Promise<ScenarioResult> {
  const calls = context.quick ? 40 : 2000;
  const rounds = context.quick ? 2 : 10;
  const warmup = context.quick ? 10 : 300;
  await configureUpstream(context, INSTANT_UPSTREAM);
  const service = await startScenarioService(context, 'overhead', {
    MODELS_FILE: writeModelsFile(context, 'default'),
  });
  const floor = await startHelper('floor-server.ts', {
    env: { UPSTREAM_URL: context.upstreamUrl, MODEL: 'm1' },
  });
  try {
    const registered = await httpRequest('POST', `${service.url}/v1/patterns`, SINGLE_PATTERN);
    if (registered.status !== 201 && registered.status !== 409) {
      throw new Error(`registering the single pattern failed: ${registered.status} ${registered.body}`);
    }
    const client = openaiClient(context.upstreamUrl);
    const floorUrl = `${String(floor.info.url)}/call`;

    const direct = async (prompt: string) => {
      const started = performance.now();
      const { text } = await streamedCall(client, 'm1', prompt);
      if (!text) throw new Error('direct call: empty answer');
      return performance.now() - started;
    };
    const viaFloor = async (prompt: string) => {
      const answer = await postJson(floorUrl, { prompt });
      if (answer.status !== 200) throw new Error(`floor: ${answer.status} ${answer.body}`);
      return answer.ms;
    };
    const viaChorus = async (prompt: string) => {
      const outcome = await runAnalysis(service.url, { prompt, pattern: 'single', models: ['fake/m1'] });
      if (!outcome.ok) throw new Error(`chorus: ${outcome.status} ${outcome.detail}`);
      return outcome.ms;
    };
    const kinds = [
      ['direct', direct],
      ['floor', viaFloor],
      ['chorus', viaChorus],
    ] as const;

    const triple = async (index: number, phase: string) => {
      const times: Record<string, number> = {};
      for (let step = 0; step < 3; step++) {
        const [name, call] = kinds[(index + step) % 3]!;
        times[name] = await call(taggedPrompt(`${context.runId}-ov-${phase}-${name}-${index}`));
      }
      return times as { direct: number; floor: number; chorus: number };
    };

    for (let index = 0; index < warmup; index++) await triple(index, 'warm');
    markMeasurement(context, 'overhead', service);
    const cpuBefore = { service: processCpuMs(service.pid), floor: processCpuMs(floor.pid) };

    const chorusDiffs: number[] = [];
    const floorDiffs: number[] = [];
    const raw = { direct: [] as number[], floor: [] as number[], chorus: [] as number[] };
    const chorusRoundMedians: number[] = [];
    const floorRoundMedians: number[] = [];
    const perRound = Math.ceil(calls / rounds);
    const deadline = performance.now() + (context.quick ? 20_000 : 90_000);
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      const chorusRound: number[] = [];
      const floorRound: number[] = [];
      for (let step = 0; step < perRound && performance.now() < deadline; step++) {
        const index = roundIndex * perRound + step;
        const times = await triple(index, 'run');
        raw.direct.push(times.direct);
        raw.floor.push(times.floor);
        raw.chorus.push(times.chorus);
        chorusRound.push(times.chorus - times.direct);
        floorRound.push(times.floor - times.direct);
      }
      if (chorusRound.length === 0) break;
      chorusDiffs.push(...chorusRound);
      floorDiffs.push(...floorRound);
      chorusRoundMedians.push(median(chorusRound));
      floorRoundMedians.push(median(floorRound));
    }

    const measuredCalls = Math.max(1, chorusDiffs.length);
    const cpuMsPerCall = {
      service: round((processCpuMs(service.pid) - cpuBefore.service) / measuredCalls),
      floor: round((processCpuMs(floor.pid) - cpuBefore.floor) / measuredCalls),
    };
    const medianMs = round(median(chorusRoundMedians));
    const floorMedianMs = round(median(floorRoundMedians));
    const p99Ms = round(quantile(chorusDiffs, 0.99));
    const floorP99Ms = round(quantile(floorDiffs, 0.99));
    return {
      figures: {
        calls: chorusDiffs.length,
        rounds: chorusRoundMedians.length,
        medianMs,
        floorMedianMs,
        p99Ms,
        floorP99Ms,
        serverCpuMsPerCall: cpuMsPerCall,
        roundMediansMs: chorusRoundMedians.map((value) => round(value)),
        floorRoundMediansMs: floorRoundMedians.map((value) => round(value)),
        directCallMs: summarize(raw.direct),
        floorCallMs: summarize(raw.floor),
        chorusCallMs: summarize(raw.chorus),
        addedMs: summarize(chorusDiffs),
        floorAddedMs: summarize(floorDiffs),
      },
      checks: {
        median: { met: medianMs <= floorMedianMs + 0.5, target: 'medianMs ≤ floorMedianMs + 0.5 ms' },
        p99: { met: p99Ms <= 1.5 * floorP99Ms, target: 'p99Ms ≤ 1.5 × floorP99Ms' },
      },
    };
  } finally {
    await floor.stop();
    await service.stop();
  }
}
