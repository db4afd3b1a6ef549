import type { FastifyBaseLogger } from 'fastify';
import { AnalysisExecutor } from './analyses/executor.js';
import { type JobQueue, LocalQueue } from './analyses/queue.js';
import { AnalysisService } from './analyses/service.js';
import { MemoryStore } from './analyses/store/memory-store.js';
import type { AnalysisStore } from './analyses/store/store.js';
import { StreamTokens } from './analyses/stream-tokens.js';
import type { Config } from './config/index.js';
import { Metrics } from './metrics.js';
import { createModelCaller } from './models/create-caller.js';
import { ModelRegistry, type ProviderFactory } from './models/registry.js';
import type { ResilientCallerOptions, ResilientModelCaller } from './models/resilient-caller.js';
import { PatternCatalog } from './orchestration/catalog.js';
import type { PatternDefinition } from './orchestration/patterns/types.js';
import { PROVIDER_FACTORIES } from './providers/index.js';

export interface EngineOptions {
  providerFactories?: Readonly<Record<string, ProviderFactory>> | undefined;
  store?: AnalysisStore | undefined;
  patterns?: readonly PatternDefinition[] | undefined;
  caller?: Partial<ResilientCallerOptions> | undefined;
}

/** Everything behind the HTTP layer: store, queue, workers, models and patterns. */
export interface Engine {
  config: Config;
  store: AnalysisStore;
  registry: ModelRegistry;
  catalog: PatternCatalog;
  caller: ResilientModelCaller;
  executor: AnalysisExecutor;
  queue: JobQueue;
  service: AnalysisService;
  tokens: StreamTokens;
  metrics: Metrics;
  /** Stops taking work and lets running analyses end (or hands them to another worker). */
  shutdown(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function createEngine(
  config: Config,
  logger: FastifyBaseLogger,
  options: EngineOptions = {},
): Promise<Engine> {
  const registry = new ModelRegistry(config.providers, options.providerFactories ?? PROVIDER_FACTORIES);
  const metrics = new Metrics();
  const caller = createModelCaller(registry, logger, metrics, options.caller);
  const tokens = new StreamTokens(config.STREAM_TOKEN_SECRET);
  const store =
    options.store ??
    new MemoryStore({ ttlSeconds: config.ANALYSIS_TTL_SECONDS, maxRetained: config.MAX_RETAINED_ANALYSES });
  const catalog = new PatternCatalog(options.patterns ?? []);
  const executor = new AnalysisExecutor({
    store,
    registry,
    caller,
    logger,
    ttlSeconds: config.ANALYSIS_TTL_SECONDS,
    onFinished: (status) => metrics.analysisFinished(status),
  });
  const queue = new LocalQueue(executor, store, config.JOB_CONCURRENCY, config.QUEUE_MAX, logger);
  const service = new AnalysisService({
    store,
    registry,
    catalog,
    queue,
    executor,
    tokens,
    ttlSeconds: config.ANALYSIS_TTL_SECONDS,
  });
  metrics.watch(queue, registry, caller);
  // Availability steers the default selection: probe before the first request, then every 30 s.
  await registry.refreshAvailability(AbortSignal.timeout(5_000));
  const probe = setInterval(() => void registry.refreshAvailability(AbortSignal.timeout(10_000)), 30_000);
  probe.unref();
  return {
    config,
    store,
    registry,
    catalog,
    caller,
    executor,
    queue,
    service,
    tokens,
    metrics,
    shutdown: (graceMs) => queue.shutdown(graceMs),
    async close() {
      clearInterval(probe);
      await caller.close();
      await store.close();
    },
  };
}
