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
import { simulatedText } from './replies.js';
import type { SimModel, SimSettings } from './settings.js';

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
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
