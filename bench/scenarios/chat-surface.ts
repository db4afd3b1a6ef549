/**
 * The OpenAI-compatible surface beside the native API: sequential one-model
 * `direct` analyses, call by call, through `POST /v1/analyses` (`Prefer:
 * wait`), `POST /openai/v1/chat/completions` not streamed, and the same
 * streamed (read to `[DONE]`). Per index i the three run back to back (their
 * order rotates); the surface's added latency is `openai_i − native_i`. The
 * figure is the median of the rounds' medians, streamed and not, in one run.
 */
import { runAnalysis, taggedPrompt } from '../lib/analysis.js';
import { postJson } from '../lib/http.js';
import { median, round, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioResult } from './context.js';
import { markMeasurement, startScenarioService, writeModelsFile } from './service.js';
import { configureUpstream, INSTANT_UPSTREAM } from './upstream.js';

const TARGET_MS = 0.2;

export async function chatSurface(context: BenchContext): Promise<ScenarioResult> {
  const calls = context.quick ? 40 : 1500;
  const rounds = context.quick ? 2 : 10;
  const warmup = context.quick ? 10 : 300;
  await configureUpstream(context, INSTANT_UPSTREAM);
  const service = await startScenarioService(context, 'chatSurface', {
    MODELS_FILE: writeModelsFile(context, 'default'),
  });
  try {
    const completions = `${service.url}/openai/v1/chat/completions`;
    const native = async (prompt: string) => {
      const outcome = await runAnalysis(service.url, { prompt, pattern: 'direct', models: ['fake/m1'] });
      if (!outcome.ok) throw new Error(`native: ${outcome.status} ${outcome.detail}`);
      return outcome.ms;
    };
    const openai = (stream: boolean) => async (prompt: string) => {
      const answer = await postJson(completions, {
        model: 'fake/m1',
        messages: [{ role: 'user', content: prompt }],
        stream,
      });
      const complete = stream
        ? answer.body.endsWith('data: [DONE]\n\n')
        : answer.body.includes('"chat.completion"');
      if (answer.status !== 200 || !complete)
        throw new Error(`openai: ${answer.status} ${answer.body.slice(0, 300)}`);
      return answer.ms;
    };
    const kinds = [
      ['native', native],
      ['whole', openai(false)],
      ['streamed', openai(true)],
    ] as const;
    const triple = async (index: number, phase: string) => {
      const times: Record<string, number> = {};
      for (let step = 0; step < 3; step++) {
        const [name, call] = kinds[(index + step) % 3]!;
        times[name] = await call(taggedPrompt(`${context.runId}-chat-${phase}-${name}-${index}`));
      }
      return times as { native: number; whole: number; streamed: number };
    };

    for (let index = 0; index < warmup; index++) await triple(index, 'warm');
    markMeasurement(context, 'chatSurface', service);
    const raw = { native: [] as number[], whole: [] as number[], streamed: [] as number[] };
    const wholeDiffs: number[] = [];
    const streamedDiffs: number[] = [];
    const wholeRounds: number[] = [];
    const streamedRounds: number[] = [];
    const perRound = Math.ceil(calls / rounds);
    const deadline = performance.now() + (context.quick ? 20_000 : 90_000);
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      const wholeRound: number[] = [];
      const streamedRound: number[] = [];
      for (let step = 0; step < perRound && performance.now() < deadline; step++) {
        const times = await triple(roundIndex * perRound + step, 'run');
        raw.native.push(times.native);
        raw.whole.push(times.whole);
        raw.streamed.push(times.streamed);
        wholeRound.push(times.whole - times.native);
        streamedRound.push(times.streamed - times.native);
      }
      if (wholeRound.length === 0) break;
      wholeDiffs.push(...wholeRound);
      streamedDiffs.push(...streamedRound);
      wholeRounds.push(median(wholeRound));
      streamedRounds.push(median(streamedRound));
    }
    const wholeMs = round(median(wholeRounds));
    const streamedMs = round(median(streamedRounds));
    return {
      figures: {
        calls: wholeDiffs.length,
        rounds: wholeRounds.length,
        addedMedianMs: { whole: wholeMs, streamed: streamedMs },
        roundMediansMs: {
          whole: wholeRounds.map((value) => round(value)),
          streamed: streamedRounds.map((value) => round(value)),
        },
        nativeCallMs: summarize(raw.native),
        wholeCallMs: summarize(raw.whole),
        streamedCallMs: summarize(raw.streamed),
        wholeAddedMs: summarize(wholeDiffs),
        streamedAddedMs: summarize(streamedDiffs),
      },
      checks: {
        whole: {
          met: wholeMs <= TARGET_MS,
          target: `median added (not streamed) ≤ ${TARGET_MS} ms over the native route`,
        },
        streamed: {
          met: streamedMs <= TARGET_MS,
          target: `median added (streamed) ≤ ${TARGET_MS} ms over the native route`,
        },
      },
    };
  } finally {
    await service.stop();
  }
}
