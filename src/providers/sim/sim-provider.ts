import { createHash } from 'node:crypto';
import { abortedError, isProviderError, ProviderError } from '../errors.js';
import { modelIdentity } from '../shared/model-identity.js';
import { collectStream, toParts } from '../shared/stream-parts.js';
import type {
  Availability,
  CallOptions,
  GenerateRequest,
  LanguageModel,
  Provider,
  StreamPart,
} from '../spec.js';
import type { SimModel, SimSettings } from './settings.js';

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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError(signal, 'sim'));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal!, 'sim'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const CHUNKS = 8;

function createSimulatedModel(provider: string, model: SimModel, random: () => number): LanguageModel {
  const identity = modelIdentity(provider, model, {
    temperature: true,
    maxTemperature: 2,
    requiresMaxTokens: false,
  });
  const failureRate = model.failureRate ?? 0;
  const latencyMs = model.latencyMs ?? 0;

  async function* answer(
    request: GenerateRequest,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<StreamPart> {
    const text = simulatedText(identity.id, request);
    const chunks = chunkText(text, CHUNKS);
    const fails = failureRate > 0 && random() < failureRate;
    const pause = latencyMs / chunks.length;
    for (let index = 0; index < chunks.length; index++) {
      await sleep(pause, signal);
      if (fails && index >= chunks.length / 2) {
        throw new ProviderError({
          code: 'overloaded',
          message: `${identity.id} simulated an overloaded upstream (failureRate ${failureRate}).`,
          status: 503,
          provider,
        });
      }
      yield { type: 'text-delta', text: chunks[index]! };
    }
    const input = (request.system ?? '') + request.messages.map((message) => message.content).join('');
    yield {
      type: 'finish',
      usage: { inputTokens: estimateTokens(input), outputTokens: estimateTokens(text) },
      finishReason: 'stop',
    };
  }

  const stream = (request: GenerateRequest, { signal }: CallOptions = {}) =>
    toParts(answer(request, signal), (error) =>
      isProviderError(error)
        ? error
        : new ProviderError({ code: 'internal', message: 'The simulator failed.' }),
    );
  return {
    ...identity,
    stream,
    generate: (request, options) => collectStream(stream(request, options)),
  };
}

export function createSimProvider(config: SimSettings, random: () => number = Math.random): Provider {
  const models = config.models.map((entry) => createSimulatedModel(config.name, entry, random));
  return {
    name: config.name,
    kind: 'sim',
    models,
    async checkAvailability(): Promise<Availability> {
      return { available: true, checkedAt: new Date().toISOString() };
    },
  };
}
