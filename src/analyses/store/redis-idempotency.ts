import type { Redis } from 'ioredis';
import type { IdempotencyReservation } from './store.js';

/**
 * Idempotency keys in Redis: one string per key, set with its TTL (`EX`), so
 * Redis expires each on its own and nothing ever walks them.
 */
export class RedisIdempotencyKeys {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  name(owner: string, key: string): string {
    return `${this.prefix}:idempotency:${owner}:${Buffer.from(key).toString('base64url')}`;
  }

  async reserve(owner: string, key: string, fingerprint: string): Promise<IdempotencyReservation> {
    const name = this.name(owner, key);
    const set = await this.redis.set(name, JSON.stringify({ fingerprint }), 'EX', this.ttlSeconds, 'NX');
    if (set === 'OK') return { state: 'new' };
    const value = await this.redis.get(name);
    if (!value) return this.reserve(owner, key, fingerprint);
    const parsed = JSON.parse(value) as { fingerprint: string; analysisId?: string };
    return parsed.analysisId === undefined
      ? { state: 'pending', fingerprint: parsed.fingerprint }
      : { state: 'done', fingerprint: parsed.fingerprint, analysisId: parsed.analysisId };
  }

  async complete(owner: string, key: string, analysisId: string): Promise<void> {
    const name = this.name(owner, key);
    const value = await this.redis.get(name);
    if (!value) return;
    const parsed = JSON.parse(value) as { fingerprint: string };
    await this.redis.set(name, JSON.stringify({ ...parsed, analysisId }), 'KEEPTTL', 'XX');
  }

  async release(owner: string, key: string): Promise<void> {
    await this.redis.del(this.name(owner, key));
  }
}
