import type { Redis } from 'ioredis';
import type { StoreRetention } from './composed-store.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisRecords } from './redis-records.js';
import type { RetentionLimits } from './store.js';

/** Finished analyses taken off the retention index per script call. */
const EVICT_BATCH = 100;

/**
 * Keeps at most `maxRetained` finished analyses holding at most
 * `maxRetainedBytes` together, the oldest going first. Their keys expire by
 * Redis's own TTL; the index forgets expired ones here, sizes included.
 */
export class RedisRetention implements StoreRetention {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly records: RedisRecords,
    private readonly limits: RetentionLimits,
  ) {}

  retain(): void {
    void this.evict().catch(() => {});
  }

  /** Runs retention now; resolves with the number of analyses taken off. */
  async evict(): Promise<number> {
    let total = 0;
    for (;;) {
      const taken = await this.redis.chorusEvict(
        ...this.keys.finished,
        String(Date.now() - this.limits.ttlSeconds * 1000),
        String(this.limits.maxRetained),
        String(this.limits.maxRetainedBytes ?? Number.MAX_SAFE_INTEGER),
        String(EVICT_BATCH),
      );
      for (const id of taken) await this.records.removeKeys(id);
      total += taken.length;
      if (taken.length < EVICT_BATCH) return total;
    }
  }

  async bytesHeld(): Promise<number> {
    return Number((await this.redis.get(this.keys.finished[2])) ?? 0);
  }
}
