import type { Redis } from 'ioredis';
import type { CustomPatternStore } from '../../orchestration/catalog.js';
import type { PatternDefinition } from '../../orchestration/patterns/types.js';

/** Custom patterns in Redis: one hash per API key, name → definition. */
export class RedisPatternStore implements CustomPatternStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'chorus',
  ) {}

  private key(owner: string): string {
    return `${this.prefix}:patterns:${owner}`;
  }

  async get(owner: string, name: string): Promise<PatternDefinition | undefined> {
    const json = await this.redis.hget(this.key(owner), name);
    return json ? (JSON.parse(json) as PatternDefinition) : undefined;
  }

  async list(owner: string): Promise<PatternDefinition[]> {
    const all = await this.redis.hgetall(this.key(owner));
    return Object.keys(all)
      .sort()
      .map((name) => JSON.parse(all[name]!) as PatternDefinition);
  }

  async add(owner: string, pattern: PatternDefinition): Promise<boolean> {
    return (await this.redis.hsetnx(this.key(owner), pattern.name, JSON.stringify(pattern))) === 1;
  }
}
