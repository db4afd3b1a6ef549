import type { Redis } from 'ioredis';
import { type BudgetLedger, type Charge, daysBetween, type UsageRow, type WindowTotals } from './ledger.js';

/** KEYS: 1 window totals, 2 reservations. ARGV: 1 analysis id, 2 amount, 3 limit. */
const RESERVE = `
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local amount = tonumber(ARGV[2])
if spent + reserved + amount > tonumber(ARGV[3]) then return {0, spent, reserved} end
redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('HINCRBY', KEYS[2], ARGV[1], amount)
return {1, spent, reserved + amount}
`;

/**
 * KEYS: 1 window totals ('' when no budget), 2 reservations, 3 the day's usage.
 * ARGV: 1 analysis id, 2 cost, 3 usage field prefix, 4 input tokens, 5 output tokens.
 */
const CHARGE = `
local cost = tonumber(ARGV[2])
if KEYS[1] ~= '' then
  redis.call('HINCRBY', KEYS[1], 'spent', cost)
  local left = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
  local taken = math.min(left, cost)
  if taken > 0 then
    redis.call('HINCRBY', KEYS[2], ARGV[1], -taken)
    redis.call('HINCRBY', KEYS[1], 'reserved', -taken)
  end
end
redis.call('HINCRBY', KEYS[3], ARGV[3] .. 'calls', 1)
redis.call('HINCRBY', KEYS[3], ARGV[3] .. 'inputTokens', ARGV[4])
redis.call('HINCRBY', KEYS[3], ARGV[3] .. 'outputTokens', ARGV[5])
redis.call('HINCRBY', KEYS[3], ARGV[3] .. 'cost', cost)
redis.call('EXPIRE', KEYS[3], 34560000)
return 1
`;

/** KEYS: 1 window totals, 2 reservations. ARGV: 1 analysis id. */
const RELEASE = `
local left = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if left > 0 then redis.call('HINCRBY', KEYS[1], 'reserved', -left) end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

type Scripted = Redis & {
  chorusReserve(...args: (string | number)[]): Promise<[number, number, number]>;
  chorusCharge(...args: (string | number)[]): Promise<number>;
  chorusRelease(...args: (string | number)[]): Promise<number>;
};

/**
 * The ledger shared by every API and worker process (STORE=redis): each step
 * is one Lua script, so two processes reserving at once can never both fit
 * in what is left, and what is spent survives restarts.
 */
export class RedisLedger implements BudgetLedger {
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('chorusReserve', { numberOfKeys: 2, lua: RESERVE });
    redis.defineCommand('chorusCharge', { numberOfKeys: 3, lua: CHARGE });
    redis.defineCommand('chorusRelease', { numberOfKeys: 2, lua: RELEASE });
    this.redis = redis as Scripted;
  }

  private keys(key: string, window: string): [string, string] {
    const base = `${this.prefix}:budget:${key}:${window}`;
    return [base, `${base}:reservations`];
  }

  private dayKey(key: string, day: string): string {
    return `${this.prefix}:usage:${key}:${day}`;
  }

  async reserve(key: string, window: string, analysisId: string, amount: number, limit: number) {
    const [ok, spent, reserved] = await this.redis.chorusReserve(
      ...this.keys(key, window),
      analysisId,
      amount,
      limit,
    );
    return { ok: ok === 1, spent, reserved };
  }

  async charge(charge: Charge): Promise<void> {
    const [totals, reservations] =
      charge.window === undefined ? ['', ''] : this.keys(charge.key, charge.window);
    await this.redis.chorusCharge(
      totals,
      reservations,
      this.dayKey(charge.key, charge.day),
      charge.analysisId,
      charge.cost,
      `${charge.model}\n${charge.pattern}\n`,
      charge.inputTokens,
      charge.outputTokens,
    );
  }

  async release(key: string, window: string, analysisId: string): Promise<void> {
    await this.redis.chorusRelease(...this.keys(key, window), analysisId);
  }

  async totals(key: string, window: string): Promise<WindowTotals> {
    const [spent, reserved] = await this.redis.hmget(this.keys(key, window)[0], 'spent', 'reserved');
    return { spent: Number(spent ?? 0), reserved: Number(reserved ?? 0) };
  }

  async usage(key: string, from: string, to: string): Promise<UsageRow[]> {
    const days = daysBetween(from, to);
    const pipeline = this.redis.pipeline();
    for (const day of days) pipeline.hgetall(this.dayKey(key, day));
    const answers = (await pipeline.exec()) ?? [];
    const rows: UsageRow[] = [];
    answers.forEach(([error, fields], index) => {
      if (error) throw error;
      const byRow = new Map<string, UsageRow>();
      for (const [field, value] of Object.entries(fields as Record<string, string>)) {
        const [model, pattern, name] = field.split('\n') as [string, string, keyof UsageRow];
        const id = `${model}\n${pattern}`;
        const row = byRow.get(id) ?? {
          day: days[index]!,
          model,
          pattern,
          calls: 0,
          inputTokens: 0,
          outputTokens: 0,
          cost: 0,
        };
        (row as unknown as Record<string, number>)[name] = Number(value);
        byRow.set(id, row);
      }
      rows.push(...byRow.values());
    });
    return rows;
  }
}
