import type { Redis } from 'ioredis';
import { type AddOutcome, type CustomPatternStore, namesAfter } from '../../orchestration/pattern-store.js';
import type { PatternDefinition } from '../../orchestration/patterns/types.js';

/** KEYS: 1 the owner's hash. ARGV: 1 name, 2 definition JSON, 3 most patterns per owner. */
const ADD = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'exists' end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 'full' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'added'
`;

/** KEYS: 1 the owner's hash. ARGV: 1 name, 2 definition JSON. Only an existing entry is overwritten. */
const REPLACE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

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

  async page(owner: string, after: string | undefined, limit: number) {
    // Names only (bounded by MAX_CUSTOM_PATTERNS_PER_KEY); definitions only for the page.
    const { names, more } = namesAfter(await this.redis.hkeys(this.key(owner)), after, limit);
    if (names.length === 0) return { patterns: [], more };
    const values = await this.redis.hmget(this.key(owner), ...names);
    const patterns = values
      .filter((json): json is string => json !== null)
      .map((json) => JSON.parse(json) as PatternDefinition);
    return { patterns, more };
  }

  count(owner: string): Promise<number> {
    return this.redis.hlen(this.key(owner));
  }

  async add(owner: string, pattern: PatternDefinition, maxPerOwner: number): Promise<AddOutcome> {
    const outcome = await this.redis.eval(
      ADD,
      1,
      this.key(owner),
      pattern.name,
      JSON.stringify(pattern),
      String(maxPerOwner),
    );
    return outcome as AddOutcome;
  }

  async replace(owner: string, pattern: PatternDefinition): Promise<boolean> {
    // Atomic: a replace racing a delete never brings the pattern back.
    const replaced = await this.redis.eval(
      REPLACE,
      1,
      this.key(owner),
      pattern.name,
      JSON.stringify(pattern),
    );
    return replaced === 1;
  }

  async remove(owner: string, name: string): Promise<boolean> {
    // The count is the hash's length, so it drops with the entry (and Redis drops an empty hash).
    return (await this.redis.hdel(this.key(owner), name)) === 1;
  }
}
