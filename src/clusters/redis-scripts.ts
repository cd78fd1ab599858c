/**
 * The Lua scripts behind the shared registry and poll store. Each touches the keys of one session and of its
 * bucket only (all under the bucket's hash tag, see redis-keyspace.ts), so each runs on one slot of a Redis
 * Cluster. A session's hash holds `v` (the record, JSON), `c` (the sealed polling credential), `rev` (bumped
 * by every write: a write planned on an older revision is refused), `owner` (the instance that polls it while
 * it is queued) and `nb` ("not before": no instance may post before this time, epoch ms).
 *
 * Two keys are reached without being declared, both built from the bucket's prefix so they share the slot:
 * the session hashes an adoption walks, and the held set of a session's owner when the session settles.
 */
import type { Redis, Result } from 'ioredis';

/**
 * KEYS: session, new state index, old state index (may equal the new), outbox, this instance's held set.
 * ARGV: 1 expected rev ('0': none yet), 2 record JSON, 3 sealed credential ('' = keep), 4 ttl ms ('' = keep),
 * 5 session id, 6 index score (expiry ms, '' = keep), 7 this instance, 8 held-set prefix of the bucket,
 * 9 mode ('request' or 'poll'), 10 next not-before ('' = none), 11 '1' when the new state is terminal,
 * 12 state event JSON for the outbox ('' = none), 13 now ms.
 * Returns {new rev, owner ('' = none)}, or {-1, ''} when the revision moved (plan again).
 *
 * A request makes this instance the owner of a queued session nobody owns; a poll reserves the next post if
 * the session is still its own; a terminal state frees the session.
 */
const WRITE_RECORD = `
local current = redis.call('HMGET', KEYS[1], 'rev', 'owner')
local rev = current[1] or '0'
if rev ~= ARGV[1] then return {-1, ''} end
local owner = current[2] or ''
local newRev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'v', ARGV[2], 'c', ARGV[3]) else redis.call('HSET', KEYS[1], 'v', ARGV[2]) end
if ARGV[11] == '1' then
  if owner ~= '' then
    redis.call('SREM', ARGV[8] .. owner, ARGV[5])
    redis.call('HDEL', KEYS[1], 'owner', 'nb')
    owner = ''
  end
elseif ARGV[9] == 'request' then
  if owner == '' then
    owner = ARGV[7]
    redis.call('HSET', KEYS[1], 'owner', owner)
    redis.call('SADD', KEYS[5], ARGV[5])
  end
elseif owner == ARGV[7] and ARGV[10] ~= '' then
  redis.call('HSET', KEYS[1], 'nb', ARGV[10])
end
if ARGV[4] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
if KEYS[3] ~= KEYS[2] then
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[13])
end
if ARGV[6] ~= '' then redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5]) end
if ARGV[12] ~= '' then redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'e', ARGV[12]) end
return {newRev, owner}
`;

/**
 * The common case of WRITE_RECORD, kept small because it runs once per poll: an answer that changes neither
 * the state nor the record's expiry, so no index, outbox or ownership moves. KEYS: session. ARGV: expected
 * rev, record JSON, this instance, next not-before. Returns as WRITE_RECORD does.
 */
const WRITE_POLL = `
local current = redis.call('HMGET', KEYS[1], 'rev', 'owner')
if current[1] ~= ARGV[1] then return {-1, ''} end
local newRev = tonumber(ARGV[1]) + 1
local owner = current[2] or ''
if owner == ARGV[3] then
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'rev', newRev, 'nb', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'rev', newRev)
end
return {newRev, owner}
`;

/** KEYS: session. ARGV: rev planned on, this instance, not-before. 1 reserved, 0 not ours, -1 revision moved. */
const RESERVE_POST = `
local current = redis.call('HMGET', KEYS[1], 'rev', 'owner')
if current[2] ~= ARGV[2] then return 0 end
if current[1] ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'nb', ARGV[3])
return 1
`;

/** KEYS: session, outbox, this instance's held set. ARGV: this instance, session id, event JSON, rev planned on. */
const END_WATCH = `
local current = redis.call('HMGET', KEYS[1], 'rev', 'owner')
if current[2] ~= ARGV[1] then return 0 end
if current[1] ~= ARGV[4] then return -1 end
redis.call('HDEL', KEYS[1], 'owner', 'nb')
redis.call('SREM', KEYS[3], ARGV[2])
if ARGV[3] ~= '' then redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'e', ARGV[3]) end
return 1
`;

/**
 * KEYS: the dead instance's held set, this instance's held set (one bucket). ARGV: dead instance, this
 * instance, the bucket's session key prefix. Moves the dead instance's sessions here; returns their ids.
 */
const ADOPT = `
local adopted = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[3] .. id
  if redis.call('HGET', key, 'owner') == ARGV[1] then
    redis.call('HSET', key, 'owner', ARGV[2])
    redis.call('SADD', KEYS[2], id)
    adopted[#adopted + 1] = id
  end
end
redis.call('DEL', KEYS[1])
return adopted
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gsmsWriteRecord(...keysThenArgs: string[]): Result<[number, string], Context>;
    gsmsWritePoll(session: string, rev: string, record: string, owner: string, notBefore: string): Result<[number, string], Context>;
    gsmsReservePost(session: string, rev: string, owner: string, notBefore: string): Result<number, Context>;
    gsmsEndWatch(session: string, outbox: string, held: string, owner: string, sessionId: string, event: string, rev: string): Result<number, Context>;
    gsmsAdopt(deadHeld: string, ownHeld: string, dead: string, owner: string, sessionKeyPrefix: string): Result<string[], Context>;
  }
}

/** The command client of either topology: a `Redis` or a `Cluster` (both define scripts the same way). */
export type RedisCommands = Pick<Redis, 'defineCommand' | 'hget' | 'hmget' | 'zrangebyscore' | 'zcount' | 'zadd' | 'zrem' | 'gsmsWriteRecord' | 'gsmsWritePoll' | 'gsmsReservePost' | 'gsmsEndWatch' | 'gsmsAdopt'>;

const defined = new WeakSet<object>();

/** Defines the scripts on a client once (ioredis sends EVALSHA, and the source once per node after a NOSCRIPT). */
export function defineScripts(redis: RedisCommands): void {
  if (defined.has(redis)) return;
  defined.add(redis);
  redis.defineCommand('gsmsWriteRecord', { numberOfKeys: 5, lua: WRITE_RECORD });
  redis.defineCommand('gsmsWritePoll', { numberOfKeys: 1, lua: WRITE_POLL });
  redis.defineCommand('gsmsReservePost', { numberOfKeys: 1, lua: RESERVE_POST });
  redis.defineCommand('gsmsEndWatch', { numberOfKeys: 3, lua: END_WATCH });
  redis.defineCommand('gsmsAdopt', { numberOfKeys: 2, lua: ADOPT });
}
