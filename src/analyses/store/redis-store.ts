import type { Redis } from 'ioredis';
import { ComposedStore } from './composed-store.js';
import { RedisIdempotencyKeys } from './redis-idempotency.js';
import { RedisKeys } from './redis-keys.js';
import { RedisEventLog } from './redis-log.js';
import { RedisRecords } from './redis-records.js';
import { RedisRetention } from './redis-retention.js';
import { defineScripts } from './redis-scripts.js';
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS, type RetentionLimits } from './store.js';

export interface RedisStoreOptions extends RetentionLimits {
  /** Commands. */
  redis: Redis;
  /** A second connection in subscriber mode: one per process, for all its event-stream readers. */
  subscriber: Redis;
  /** BullMQ's key of a job's lock, checked on every write by a worker. */
  lockKey: (id: string) => string;
  prefix?: string;
  /**
   * How often the analyses this process streams are checked to still exist
   * (a flushed or replaced Redis loses them without a word): their streams
   * then end instead of waiting forever.
   */
  watchIntervalMs?: number;
}

interface RedisParts {
  records: RedisRecords;
  log: RedisEventLog;
  retention: RedisRetention;
  idempotency: RedisIdempotencyKeys;
}

/**
 * Analyses in Redis: a hash per analysis (record, job, owner, event counter)
 * and an owner index for listing (RedisRecords), its event log as a Stream
 * that expires with the record, with live events through one subscriber
 * connection (RedisEventLog), retention of finished ones (RedisRetention) and
 * idempotency keys (RedisIdempotencyKeys). Key names are in RedisKeys.
 */
export class RedisStore extends ComposedStore<RedisParts> {
  private readonly redis: Redis;

  constructor(options: RedisStoreOptions) {
    const { redis } = options;
    const prefix = options.prefix ?? 'chorus';
    defineScripts(redis);
    const keys = new RedisKeys(prefix, options.lockKey);
    const records = new RedisRecords(redis, keys);
    super({
      records,
      log: new RedisEventLog({
        redis,
        subscriber: options.subscriber,
        keys,
        ttlSeconds: options.ttlSeconds,
        watchIntervalMs: options.watchIntervalMs ?? 15_000,
      }),
      retention: new RedisRetention(redis, keys, records, options),
      idempotency: new RedisIdempotencyKeys(
        redis,
        prefix,
        options.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
      ),
    });
    this.redis = redis;
  }

  /** Runs retention now; resolves with the number of analyses taken off. */
  evict(): Promise<number> {
    return this.parts.retention.evict();
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.parts.log.close();
  }
}
