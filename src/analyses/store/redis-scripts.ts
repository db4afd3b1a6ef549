/**
 * Lua scripts of the Redis store. Every event of an analysis goes through
 * APPEND, whoever writes it (a worker, an API instance taking a cancel, a new
 * worker after a crash): it checks the log is open and the writer still holds
 * the job's lock, takes the next integer id and XADDs with the explicit stream
 * id `0-<n>`, so ids are gap-free and ordered across processes.
 */

/**
 * KEYS: 1 analysis hash, 2 event stream, 3 the job's lock key (BullMQ), 4 finished index.
 * ARGV: 1 event type, 2 the `data:` line, 3 terminal ('1'|'0'), 4 lock token ('' = no check),
 *       5 record JSON ('' = unchanged), 6 channel, 7 TTL seconds, 8 now (ms).
 * Returns the event id, or false when refused.
 */
export const APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HGET', KEYS[1], 'closed') == '1' then return false end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then return false end
local n = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local frame = 'id: ' .. n .. '\\nevent: ' .. ARGV[1] .. '\\ndata: ' .. ARGV[2] .. '\\n\\n'
redis.call('XADD', KEYS[2], '0-' .. n, 'f', frame)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'record', ARGV[5]) end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'closed', '1')
  local ttl = tonumber(ARGV[7])
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('ZADD', KEYS[4], ARGV[8], redis.call('HGET', KEYS[1], 'id'))
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
