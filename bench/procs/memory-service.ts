/**
 * The memory scenario's service: the built app (dist/), configured from the
 * environment exactly as `dist/server.js` does, plus two handles the
 * production entry point does not expose — the heap after forced collections
 * (run under `--expose-gc`) and a clock for the memory store, so retained
 * analyses can be expired on demand instead of after a real TTL.
 *
 * MEMORY_PROVIDER=inprocess (the default) swaps the OpenAI-compatible adapter
 * for an in-process model that streams exactly what the fake upstream would
 * (the same text, chunks and usage), so 10,000 analyses take seconds instead
 * of minutes; what is measured — records, event logs, the store, caches — is
 * the service's own. MEMORY_PROVIDER=upstream keeps the real adapter and
 * calls the fake upstream over HTTP.
 *
 * IPC: heap() → memory after full collections · expire() → advances the store's
 * clock past the TTL and sweeps · size() → analyses held · bytes() → bytes the
 * store counts for retained analyses (null where the store does not count) ·
 * snapshot({ path }).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import type * as StoreModule from '../../src/analyses/store/memory-store.js';
import type * as ConfigModule from '../../src/config/index.js';
import type { ProviderFactory } from '../../src/models/registry.js';
import type * as ProvidersModule from '../../src/providers/index.js';
import type * as IdentityModule from '../../src/providers/shared/model-identity.js';
import type { GenerateRequest, LanguageModel, Provider, StreamPart } from '../../src/providers/spec.js';
import type * as ServerModule from '../../src/server.js';
import { answerPieces, answerText } from '../lib/answer.js';
import { ready, serve } from '../lib/ipc.js';

const dist = (path: string) => pathToFileURL(join(process.cwd(), 'dist', path)).href;
const { buildServer } = (await import(dist('server.js'))) as typeof ServerModule;
const { loadConfig } = (await import(dist('config/index.js'))) as typeof ConfigModule;
const { MemoryStore } = (await import(dist('analyses/store/memory-store.js'))) as typeof StoreModule;
const { PROVIDER_FACTORIES } = (await import(dist('providers/index.js'))) as typeof ProvidersModule;
const { modelIdentity } = (await import(dist('providers/shared/model-identity.js'))) as typeof IdentityModule;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('memory-service needs --expose-gc');

const TEXT = answerText(Number(process.env.ANSWER_CHARS ?? 400));
const PIECES = answerPieces(TEXT, Number(process.env.ANSWER_CHUNKS ?? 8));
const TEXT_OF_PIECES = PIECES.join('');

function usageOf(request: GenerateRequest, outputLength: number) {
  const input = (request.system ?? '') + request.messages.map((message) => message.content).join('');
  return { inputTokens: Math.ceil(input.length / 4), outputTokens: Math.ceil(outputLength / 4) };
}

/** A model that streams what the fake upstream would, without a socket. */
function inProcessModel(provider: string, model: string): LanguageModel {
  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    let length = 0;
    for (const piece of PIECES) {
      await Promise.resolve();
      length += piece.length;
      yield { type: 'text-delta', text: piece };
    }
    yield { type: 'finish', usage: usageOf(request, length), finishReason: 'stop' };
  }
  return {
    ...modelIdentity(
      provider,
      { id: model },
      { temperature: true, maxTemperature: 2, requiresMaxTokens: false },
    ),
    generate: async (request) => ({
      text: TEXT_OF_PIECES,
      usage: usageOf(request, TEXT_OF_PIECES.length),
      finishReason: 'stop',
    }),
    stream,
  };
}

const inProcessFactory: ProviderFactory = (config: ProvidersModule.ProviderSettings): Provider => ({
  name: config.name,
  kind: config.kind,
  models: config.models.map((entry) => inProcessModel(config.name, entry.id)),
  checkAvailability: async () => ({ available: true, checkedAt: new Date().toISOString() }),
});

const config = loadConfig(process.env);
let offsetMs = 0;
const store = new MemoryStore({
  ttlSeconds: config.ANALYSIS_TTL_SECONDS,
  maxRetained: config.MAX_RETAINED_ANALYSES,
  maxRetainedBytes: config.MAX_RETAINED_BYTES,
  now: () => Date.now() + offsetMs,
});
const app = await buildServer({
  config,
  store,
  ...(process.env.MEMORY_PROVIDER === 'upstream'
    ? {}
    : { providerFactories: { ...PROVIDER_FACTORIES, 'openai-compatible': inProcessFactory } }),
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 25));

serve({
  heap: async () => {
    for (let round = 0; round < 4; round++) {
      gc();
      await settle();
    }
    const usage = process.memoryUsage();
    return {
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      heapTotal: usage.heapTotal,
      rss: usage.rss,
    };
  },
  expire: () => {
    offsetMs += (config.ANALYSIS_TTL_SECONDS + 1) * 1000;
    store.sweep();
    return { size: store.size };
  },
  size: () => ({ size: store.size }),
  bytes: async () => {
    const counted = store as { bytesHeld?: () => Promise<number> };
    return { bytes: counted.bytesHeld ? await counted.bytesHeld() : null };
  },
  snapshot: ({ path }: { path: string }) => {
    gc();
    return { path: writeHeapSnapshot(path) };
  },
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
ready({ url: address });
