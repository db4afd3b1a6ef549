import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Redis } from 'ioredis';
import type { AnalysisStore } from '../store/store.js';
import { parseWebhookUrl, RefusedWebhookUrl, resolveReceiver, systemResolver } from './address-guard.js';
import { WebhookDeliverer } from './deliverer.js';
import { type DeliveryLog, MemoryDeliveryLog, RedisDeliveryLog } from './delivery-log.js';
import { LocalWebhookQueue, RedisWebhookQueue, type SetTimer, type WebhookQueue } from './queues.js';
import { RETRY_DELAYS_MS } from './schedule.js';
import type { Resolver } from './types.js';

export interface WebhookSettings {
  /** WEBHOOK_SECRET. */
  secret: string;
  /** WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  /** WEBHOOK_TIMEOUT_MS. */
  timeoutMs: number;
  /** WEBHOOK_CONCURRENCY: deliveries in flight at once, per process. */
  concurrency: number;
  /** How long an analysis is kept (its delivery log is kept as long, past the last retry). */
  ttlSeconds: number;
}

/** What tests replace: DNS, the retry waits, the local queue's timers, the clock. */
export interface WebhookOverrides {
  resolve?: Resolver | undefined;
  retryDelaysMs?: readonly number[] | undefined;
  setTimer?: SetTimer | undefined;
  now?: (() => number) | undefined;
}

export interface RedisWebhookTransport {
  redis: Redis;
  prefix: string;
  producer: Redis;
  connection: () => Redis;
  work: boolean;
  onConnectionError: (role: string, error: Error) => void;
}

/** The webhooks of analyses: the check of a URL at submission, the delivery log, the queue. */
export interface Webhooks {
  /** The reason a URL is refused (its form, scheme, or the address it resolves to), or undefined. */
  check(url: string): Promise<string | undefined>;
  log: DeliveryLog;
  queue: WebhookQueue;
}

export function createWebhooks(
  settings: WebhookSettings,
  store: AnalysisStore,
  logger: Logger,
  redis: RedisWebhookTransport | undefined,
  overrides: WebhookOverrides = {},
): Webhooks {
  const resolve = overrides.resolve ?? systemResolver;
  const guard = { resolve, allowPrivate: settings.allowPrivate };
  // Kept while an analysis is, and at least as long as its retries go on.
  const retrySeconds = Math.ceil(
    (overrides.retryDelaysMs ?? RETRY_DELAYS_MS).reduce((a, b) => a + b, 0) / 1000,
  );
  const ttlSeconds = Math.max(settings.ttlSeconds, retrySeconds + 3600);
  const log: DeliveryLog = redis
    ? new RedisDeliveryLog(redis.redis, redis.prefix, ttlSeconds)
    : new MemoryDeliveryLog({ ttlSeconds, max: 100_000 });
  const deliverer = new WebhookDeliverer({
    store,
    log,
    secret: settings.secret,
    send: { ...guard, timeoutMs: settings.timeoutMs },
    logger,
    now: overrides.now,
  });
  const queue: WebhookQueue = redis
    ? new RedisWebhookQueue(deliverer, {
        ...redis,
        concurrency: settings.concurrency,
        retryDelaysMs: overrides.retryDelaysMs,
      })
    : new LocalWebhookQueue(deliverer, {
        concurrency: settings.concurrency,
        logger,
        retryDelaysMs: overrides.retryDelaysMs,
        setTimer: overrides.setTimer,
      });
  return {
    async check(raw) {
      try {
        await resolveReceiver(parseWebhookUrl(raw), guard);
        return undefined;
      } catch (error) {
        if (error instanceof RefusedWebhookUrl) return error.message;
        throw error;
      }
    },
    log,
    queue,
  };
}
