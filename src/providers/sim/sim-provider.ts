import { createHash } from 'node:crypto';
import { abortedError, ProviderError } from '../errors.js';
import type {
  Availability,
  DeltaListener,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  ModelCapabilities,
  Provider,
} from '../spec.js';
import type { SimSettings } from './settings.js';

const OPENINGS = [
  'A useful way to approach this is to separate what is known from what is assumed.',
  'The question turns on a few concrete trade-offs.',
  'Three considerations stand out here.',
  'It helps to start from the constraints and work outwards.',
];
const MIDDLES = [
  'The strongest argument is the one that survives the most specific objections.',
  'Costs that arrive late are easy to underestimate, so they deserve explicit weight.',
  'Where the evidence is thin, a reversible first step beats a bold commitment.',
  'Agreement between independent views is informative only when their reasons differ.',
];
const CLOSINGS = [
  'In short: decide on the evidence you have, and plan to revisit it.',
  'The practical next step is a small experiment that tests the riskiest assumption.',
  'On balance, the cautious option keeps the most future choices open.',
  'The best answer combines the clearest reasoning with an honest account of uncertainty.',
];

function pick(list: readonly string[], digest: Buffer, index: number): string {
  return list[digest[index]! % list.length]!;
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Deterministic text for a given model and input, which says plainly that it is simulated. */
export function simulatedText(modelId: string, request: GenerateRequest): string {
  const input = `${request.system ?? ''}\u0000${request.messages.map((message) => message.content).join('\u0000')}`;
  const digest = createHash('sha256').update(modelId).update('\u0000').update(input).digest();
  const topic = (request.messages.at(-1)?.content ?? '').replace(/\s+/g, ' ').trim().slice(0, 60);
  return [
    `[Simulated answer from ${modelId}: no real model was called.]`,
    `On "${topic}${topic.length === 60 ? '…' : ''}":`,
    pick(OPENINGS, digest, 0),
    pick(MIDDLES, digest, 1),
    pick(CLOSINGS, digest, 2),
  ].join(' ');
}

/** Splits text into about `count` chunks on word boundaries. */
export function chunkText(text: string, count: number): string[] {
  const words = text.split(/(?<= )/);
  const size = Math.max(1, Math.ceil(words.length / count));
  const chunks: string[] = [];
  for (let index = 0; index < words.length; index += size)
    chunks.push(words.slice(index, index + size).join(''));
  return chunks;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortedError(signal, 'sim'));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal, 'sim'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const CHUNKS = 8;

class SimulatedModel implements LanguageModel {
  readonly id: string;
  readonly capabilities: ModelCapabilities;

  constructor(
    readonly provider: string,
    readonly model: string,
    private readonly latencyMs: number,
    private readonly failureRate: number,
    contextWindow: number | undefined,
    maxOutputTokens: number | undefined,
    private readonly random: () => number,
  ) {
    this.id = `${provider}/${model}`;
    this.capabilities = {
      streaming: true,
      contextWindow: contextWindow ?? null,
      maxOutputTokens: maxOutputTokens ?? null,
      temperature: true,
      maxTemperature: 2,
      requiresMaxTokens: false,
    };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.stream(request, () => {});
  }

  async stream(request: GenerateRequest, onDelta: DeltaListener): Promise<GenerateResult> {
    const text = simulatedText(this.id, request);
    const chunks = chunkText(text, CHUNKS);
    const fails = this.failureRate > 0 && this.random() < this.failureRate;
    const pause = this.latencyMs / chunks.length;
    for (let index = 0; index < chunks.length; index++) {
      await sleep(pause, request.signal);
      if (fails && index >= chunks.length / 2) {
        throw new ProviderError({
          code: 'overloaded',
          message: `${this.id} simulated an overloaded upstream (failureRate ${this.failureRate}).`,
          status: 503,
          provider: this.provider,
        });
      }
      onDelta(chunks[index]!);
    }
    const input = (request.system ?? '') + request.messages.map((message) => message.content).join('');
    return {
      text,
      usage: { inputTokens: estimateTokens(input), outputTokens: estimateTokens(text) },
      finishReason: 'stop',
    };
  }
}

export function createSimProvider(config: SimSettings, random: () => number = Math.random): Provider {
  const models = config.models.map(
    (entry) =>
      new SimulatedModel(
        config.name,
        entry.id,
        entry.latencyMs ?? 0,
        entry.failureRate ?? 0,
        entry.contextWindow,
        entry.maxOutputTokens,
        random,
      ),
  );
  return {
    name: config.name,
    kind: 'sim',
    models,
    async checkAvailability(): Promise<Availability> {
      return { available: true, checkedAt: new Date().toISOString() };
    },
  };
}
