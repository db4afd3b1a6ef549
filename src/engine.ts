import type { FastifyBaseLogger } from 'fastify';
import { Budgets } from './analyses/budget/budgets.js';
import { MemoryLedger } from './analyses/budget/ledger.js';
import { RedisLedger } from './analyses/budget/redis-ledger.js';
import { AnalysisExecutor } from './analyses/executor.js';
import { OutputLengths } from './analyses/output-lengths.js';
import { type JobQueue, LocalQueue } from './analyses/queue.js';
import type { AnalysisRecord } from './analyses/record.js';
import { bullLockKey, RedisQueue } from './analyses/redis-queue.js';
import { AnalysisService } from './analyses/service.js';
import { MemoryStore } from './analyses/store/memory-store.js';
import { RedisConnections } from './analyses/store/redis-connections.js';
import { RedisPatternStore } from './analyses/store/redis-patterns.js';
import { RedisStore } from './analyses/store/redis-store.js';
import type { AnalysisStore } from './analyses/store/store.js';
import type { Tracing } from './analyses/tracing/tracing.js';
import { createWebhooks, type WebhookOverrides, type Webhooks } from './analyses/webhooks/webhooks.js';
import type { Config } from './config/index.js';
import { createModelCaller } from './models/create-caller.js';
import { ModelRegistry, type ProviderFactory } from './models/registry.js';
import type {
  CallObserver,
  ResilientCallerOptions,
  ResilientModelCaller,
} from './models/resilient-caller.js';
import { PatternCatalog } from './orchestration/catalog.js';
import type { PatternDefinition } from './orchestration/patterns/types.js';
import { toProviderEntries } from './provider-entries.js';
import { PROVIDER_FACTORIES } from './providers/index.js';
import type { Usage } from './providers/spec.js';

export interface EngineOptions {
  providerFactories?: Readonly<Record<string, ProviderFactory>> | undefined;
  store?: AnalysisStore | undefined;
  patterns?: readonly PatternDefinition[] | undefined;
  caller?: Partial<ResilientCallerOptions> | undefined;
  /** How often an idle event stream is pinged, and its analysis checked to still exist (Redis). */
  heartbeatMs?: number | undefined;
  /** The links of a new analysis; by default its paths alone (the HTTP layer adds a stream token). */
  links?: ((id: string, createdAtMs: number) => AnalysisRecord['links']) | undefined;
  /** Told about model calls and finished analyses (the HTTP layer's metrics). */
  observer?:
    | (CallObserver & {
        analysisFinished(status: string): void;
        /** A model call's tokens and cost, by key name and model. */
        charged?(key: string, model: string, usage: Usage, costUsd: number): void;
      })
    | undefined;
  /** Webhook delivery's DNS, retry waits, timers and clock (tests). */
  webhooks?: WebhookOverrides | undefined;
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
  /** Undefined when WEBHOOK_SECRET is not set. */
  webhooks: Webhooks | undefined;
  budgets: Budgets;
  /** Undefined (and the SDK never loaded) unless an OTLP endpoint is set. */
  tracing: Tracing | undefined;
  /** Stops taking work and lets running analyses end (or hands them to another worker). */
  shutdown(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function createEngine(
  config: Config,
  logger: FastifyBaseLogger,
  options: EngineOptions = {},
): Promise<Engine> {
  const redisPrefix = config.REDIS_PREFIX;
  const redis =
    config.STORE === 'redis'
      ? new RedisConnections(config.REDIS_URL, logger, config.REDIS_PREFIX, config.REDIS_COMMAND_TIMEOUT_MS)
      : undefined;
  await redis?.ready();
  const tracing = config.tracing
    ? (await import('./analyses/tracing/sdk.js')).startTracing(config.tracing)
    : undefined;
  const registry = new ModelRegistry(
    toProviderEntries(config.providers),
    options.providerFactories ?? PROVIDER_FACTORIES,
  );
  const observer = options.observer;
  const caller = createModelCaller(registry, logger, observer, {
    // With Redis, every worker shares one requests-per-minute budget per provider.
    sharedReservoir: redis ? (provider) => redis.reservoir(provider) : undefined,
    ...options.caller,
  });
  const store =
    options.store ??
    (redis
      ? new RedisStore({
          redis: redis.commands,
          subscriber: redis.subscriber,
          ttlSeconds: config.ANALYSIS_TTL_SECONDS,
          maxRetained: config.MAX_RETAINED_ANALYSES,
          maxRetainedBytes: config.MAX_RETAINED_BYTES,
          lockKey: (id) => bullLockKey(redisPrefix, id),
          prefix: redisPrefix,
          watchIntervalMs: options.heartbeatMs ?? 15_000,
        })
      : new MemoryStore({
          ttlSeconds: config.ANALYSIS_TTL_SECONDS,
          maxRetained: config.MAX_RETAINED_ANALYSES,
          maxRetainedBytes: config.MAX_RETAINED_BYTES,
        }));
  const catalog = new PatternCatalog(
    options.patterns ?? [],
    redis ? new RedisPatternStore(redis.commands, redisPrefix) : undefined,
    { maxPerOwner: config.MAX_CUSTOM_PATTERNS_PER_KEY },
  );
  const webhooks = config.WEBHOOK_SECRET
    ? createWebhooks(
        {
          secret: config.WEBHOOK_SECRET,
          allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          concurrency: config.WEBHOOK_CONCURRENCY,
          ttlSeconds: config.ANALYSIS_TTL_SECONDS,
        },
        store,
        logger,
        redis && {
          redis: redis.commands,
          prefix: redisPrefix,
          producer: redis.producer,
          connection: () => redis.blocking(),
          work: config.ROLE !== 'api',
          onConnectionError: redis.connectionError,
        },
        options.webhooks,
      )
    : undefined;
  const lengths = new OutputLengths();
  const budgets = new Budgets(
    redis ? new RedisLedger(redis.commands, redisPrefix) : new MemoryLedger(),
    store,
    logger,
  );
  const executor = new AnalysisExecutor({
    store,
    registry,
    caller,
    logger,
    ttlSeconds: config.ANALYSIS_TTL_SECONDS,
    maxEventBytes: config.MAX_ANALYSIS_EVENT_BYTES,
    tracing,
    onEnded: (record) => {
      observer?.analysisFinished(record.status);
      // The delivery is queued, never awaited: a slow receiver cannot hold an analysis up.
      if (!webhooks || !record.webhook) return;
      webhooks.queue.enqueue(record.id).catch((error: unknown) => {
        logger.error({ err: error, analysisId: record.id }, 'the webhook could not be queued');
      });
    },
    observe: (job, event) => {
      if (event.type !== 'model.completed') return;
      budgets.observe(job, event);
      observer?.charged?.(job.owner, event.data.model, event.data.usage, event.data.costUsd);
      if (!event.data.cached) lengths.observe(event.data.model, event.data.usage.outputTokens);
    },
    beforeEnd: (id) => budgets.ended(id),
  });
  const queue: JobQueue = redis
    ? new RedisQueue({
        prefix: redisPrefix,
        redis: redis.commands,
        connection: () => redis.blocking(),
        producer: redis.producer,
        onConnectionError: redis.connectionError,
        subscriber: redis.subscriber,
        executor,
        store,
        logger,
        queueMax: config.QUEUE_MAX,
        work: config.ROLE !== 'api',
        concurrency: config.JOB_CONCURRENCY,
        lockDurationMs: config.WORKER_LOCK_MS,
        stalledIntervalMs: config.WORKER_STALLED_CHECK_MS,
        maxStalledCount: config.WORKER_MAX_STALLS,
      })
    : new LocalQueue(executor, store, config.JOB_CONCURRENCY, config.QUEUE_MAX, logger);
  const service = new AnalysisService({
    store,
    registry,
    catalog,
    queue,
    executor,
    links: options.links ?? ((id) => ({ self: `/v1/analyses/${id}`, events: `/v1/analyses/${id}/events` })),
    lengths,
    budgets,
    inputLimits: {
      maxInputBytes: config.MAX_ANALYSIS_INPUT_BYTES,
      maxMetadataBytes: config.MAX_METADATA_BYTES,
    },
    webhooks,
  });
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
    webhooks,
    budgets,
    tracing,
    shutdown: (graceMs) => queue.shutdown(graceMs),
    async close() {
      clearInterval(probe);
      await webhooks?.queue.close();
      await caller.close();
      await store.close();
      await redis?.close();
      await tracing?.shutdown();
    },
  };
}
