import type { Redis, Result } from 'ioredis';

/**
 * Lua scripts of the Redis store. Every event of an analysis goes through
 * APPEND, whoever writes it (a worker, an API instance taking a cancel, a new
 * worker after a crash): it checks the log is open and the writer still holds
 * the job's lock, takes the next integer id and XADDs with the explicit stream
 * id `0-<n>`, so ids are gap-free and ordered across processes.
 */

/**
 * KEYS: 1 analysis hash, 2 event stream, 3 the job's lock key (BullMQ), 4 finished index
 *       (id by time finished), 5 finished sizes (id → bytes), 6 finished bytes (their total).
 * ARGV: 1 event type, 2 the `data:` line, 3 terminal ('1'|'0'), 4 lock token ('' = no check),
 *       5 record JSON ('' = unchanged), 6 channel, 7 TTL seconds, 8 now (ms).
 * The hash's `bytes` field sums the frames; on the terminal event the
 * analysis's size (frames, record, job) joins the running total, so retention
 * by bytes never has to walk the analyses.
 * Returns the event id, or false when refused.
 */
export const APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HGET', KEYS[1], 'closed') == '1' then return false end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then return false end
local n = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local frame = 'id: ' .. n .. '\\nevent: ' .. ARGV[1] .. '\\ndata: ' .. ARGV[2] .. '\\n\\n'
redis.call('XADD', KEYS[2], '0-' .. n, 'f', frame)
local frames = redis.call('HINCRBY', KEYS[1], 'bytes', #frame)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'record', ARGV[5]) end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'closed', '1')
  local ttl = tonumber(ARGV[7])
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  local id = redis.call('HGET', KEYS[1], 'id')
  local size = frames + redis.call('HSTRLEN', KEYS[1], 'record') + redis.call('HSTRLEN', KEYS[1], 'job')
  redis.call('ZADD', KEYS[4], ARGV[8], id)
  redis.call('HSET', KEYS[5], id, size)
  redis.call('INCRBY', KEYS[6], size)
end
redis.call('PUBLISH', ARGV[6], frame)
return n
`;

/**
 * KEYS: 1 analysis hash, 2 the job's lock key. ARGV: 1 record JSON, 2 lock token ('' = no check).
 * Returns 1 when written, 0 when refused (ended, or the lock is someone else's).
 */
export const SAVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'closed') == '1' then return 0 end
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[1])
return 1
`;

/**
 * Retention: takes the oldest finished analyses off the index while the oldest
 * has expired (finished at or before the cutoff) or the index holds more than
 * the count or byte limit, at most `batch` at a time. Their sizes leave the
 * total in the same step; the caller deletes their keys.
 * KEYS: 1 finished index, 2 finished sizes, 3 finished bytes.
 * ARGV: 1 cutoff (ms), 2 max count, 3 max bytes, 4 batch.
 * Returns the ids taken off.
 */
export const EVICT = `
local cutoff, maxCount, maxBytes, batch = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local count = redis.call('ZCARD', KEYS[1])
local bytes = tonumber(redis.call('GET', KEYS[3]) or '0')
local taken = {}
while #taken < batch do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #oldest == 0 then break end
  if tonumber(oldest[2]) > cutoff and count <= maxCount and bytes <= maxBytes then break end
  local id = oldest[1]
  redis.call('ZREM', KEYS[1], id)
  count = count - 1
  local size = tonumber(redis.call('HGET', KEYS[2], id) or '0')
  redis.call('HDEL', KEYS[2], id)
  redis.call('DECRBY', KEYS[3], size)
  bytes = bytes - size
  taken[#taken + 1] = id
end
return taken
`;

/**
 * Deletes an analysis: its hash, its events, its place in the owner's index
 * and, when it had finished, its size from the retained total.
 * KEYS: 1 analysis hash, 2 event stream, 3 owner index, 4 finished index, 5 finished sizes,
 *       6 finished bytes. ARGV: 1 the analysis id. Returns the number of keys deleted.
 */
export const DELETE = `
local size = redis.call('HGET', KEYS[5], ARGV[1])
if size then
  redis.call('HDEL', KEYS[5], ARGV[1])
  redis.call('DECRBY', KEYS[6], size)
end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return redis.call('DEL', KEYS[1], KEYS[2])
`;

/** Registers the scripts as commands on a connection (ioredis sends EVALSHA, loading a script once). */
export function defineScripts(redis: Redis): void {
  redis.defineCommand('chorusAppend', { numberOfKeys: 6, lua: APPEND });
  redis.defineCommand('chorusSave', { numberOfKeys: 2, lua: SAVE });
  redis.defineCommand('chorusEvict', { numberOfKeys: 3, lua: EVICT });
  redis.defineCommand('chorusDelete', { numberOfKeys: 6, lua: DELETE });
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chorusAppend(...args: string[]): Result<number | null, Context>;
    chorusSave(...args: string[]): Result<number, Context>;
    chorusEvict(...args: string[]): Result<string[], Context>;
    chorusDelete(...args: string[]): Result<number, Context>;
  }
}
