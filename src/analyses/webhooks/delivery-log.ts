import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { WebhookDelivery } from './types.js';

/**
 * The attempts at delivering each analysis's webhook. Kept beside the event
 * log, not in it: an analysis's log closes with its terminal event, and its
 * record is the reduction of that log. Deliveries come after the end; the
 * record read by clients is that reduction with this log's entries shown in
 * `webhook.deliveries` (see AnalysisService.get).
 */
export interface DeliveryLog {
  add(analysisId: string, delivery: WebhookDelivery): Promise<void>;
  list(analysisId: string): Promise<WebhookDelivery[]>;
}

/** In process (STORE=memory): bounded by count, and forgotten with the analyses (TTL). */
export class MemoryDeliveryLog implements DeliveryLog {
  readonly #entries: LRUCache<string, WebhookDelivery[]>;

  constructor(options: { ttlSeconds: number; max: number }) {
    this.#entries = new LRUCache({ max: options.max, ttl: options.ttlSeconds * 1000, updateAgeOnGet: false });
  }

  async add(analysisId: string, delivery: WebhookDelivery): Promise<void> {
    const list = this.#entries.get(analysisId) ?? [];
    this.#entries.set(analysisId, [...list, delivery]);
  }

  async list(analysisId: string): Promise<WebhookDelivery[]> {
    return this.#entries.get(analysisId) ?? [];
  }
}

/** In Redis: one list per analysis, expiring with the analysis. */
export class RedisDeliveryLog implements DeliveryLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:wh:${id}`;
  }

  async add(analysisId: string, delivery: WebhookDelivery): Promise<void> {
    const key = this.key(analysisId);
    await this.redis.multi().rpush(key, JSON.stringify(delivery)).expire(key, this.ttlSeconds).exec();
  }

  async list(analysisId: string): Promise<WebhookDelivery[]> {
    const items = await this.redis.lrange(this.key(analysisId), 0, -1);
    return items.map((item) => JSON.parse(item) as WebhookDelivery);
  }
}
