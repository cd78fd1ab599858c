/**
 * The Lua behind RedisQueueTracker (queue-redis.ts, whose header describes the keys, the change log and
 * why a title's standings go out as one call): one script applies a state event, the other is a title's batch.
 * Each runs on the title's keys only, so on a Redis Cluster it runs on the title's master.
 */
import type { Cluster, Redis, Result } from 'ioredis';
import { CHANGES_KEPT } from './queue-rank-cache.js';

/**
 * The changes the log keeps (an instance further behind reads ranks again), and the Lua that logs changes
 * (KEYS[meta], KEYS[log] given by each script): one HINCRBY, HSET and LPUSH however many. The newest change
 * is also kept in the meta hash, so a read of a line that has not changed needs no LRANGE; the list is
 * trimmed each time `seq` passes a multiple of 64, not on each change. A score is written from Lua with
 * %.0f or as Redis replied it: Lua's own number-to-string keeps 14 digits, and a score (ms × 2048) has 16.
 */
const LOG_MAX = CHANGES_KEPT;
const logChanges = (meta: number, log: number) => `
local function logChanges(changes)
  if #changes == 0 then return end
  local seq = redis.call('HINCRBY', KEYS[${meta}], 'seq', #changes)
  redis.call('HSET', KEYS[${meta}], 'newest', changes[#changes])
  redis.call('LPUSH', KEYS[${log}], unpack(changes))
  if seq % 64 < #changes then redis.call('LTRIM', KEYS[${log}], 0, ${LOG_MAX - 1}) end
end
`;

// KEYS: line, seen, served, meta, log. ARGV: kind (enter | leave | served), session id, at (ms), window, lag (ms;
// see summarizeServed, which this mirrors).
// Returns 1 when the line changed.
const APPLY_EVENT = `${logChanges(4, 5)}
local kind, id, at, window, lag = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if kind == 'enter' then
  if redis.call('ZSCORE', KEYS[1], id) then return 0 end
  if redis.call('ZCARD', KEYS[1]) == 0 then
    local idleSince = tonumber(redis.call('HGET', KEYS[4], 'idleSince'))
    if idleSince and at > idleSince then redis.call('HINCRBY', KEYS[4], 'idleMs', at - idleSince) end
    redis.call('HDEL', KEYS[4], 'idleSince')
    local idleMs = tonumber(redis.call('HGET', KEYS[4], 'idleMs') or '0')
    redis.call('HSETNX', KEYS[4], 'anchorMs', at - idleMs)
  end
  local tie = 0
  if tonumber(redis.call('HGET', KEYS[4], 'tieMs')) == at then
    tie = redis.call('HINCRBY', KEYS[4], 'tie', 1)
  else
    redis.call('HSET', KEYS[4], 'tieMs', at, 'tie', 0)
  end
  local score = string.format('%.0f', at * 2048 + math.min(tie, 2047))
  redis.call('ZADD', KEYS[1], score, id)
  redis.call('ZADD', KEYS[2], at, id)
  logChanges({ '+' .. score })
  return 1
end
local score = redis.call('ZSCORE', KEYS[1], id)
if not score then return 0 end
redis.call('ZREM', KEYS[1], id)
redis.call('ZREM', KEYS[2], id)
logChanges({ '-' .. score })
if kind == 'served' then
  local idleMs = tonumber(redis.call('HGET', KEYS[4], 'idleMs') or '0')
  redis.call('ZADD', KEYS[3], at - idleMs, id)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(window + 2))
  local served = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
  local count = #served / 2
  local first, last = tonumber(served[2]), tonumber(served[#served])
  local full = count > window
  local start = first
  if not full then start = math.min(tonumber(redis.call('HGET', KEYS[4], 'anchorMs') or first), first) end
  local maxGap = 0
  if not full then maxGap = first - start end
  for i = 4, #served, 2 do maxGap = math.max(maxGap, tonumber(served[i]) - tonumber(served[i - 2])) end
  local intervals = count
  if full then intervals = count - 1 end
  local span = last - start
  if not full then span = math.max(span - lag, span / 2) end
  redis.call('HSET', KEYS[4], 'evidence', count, 'intervals', intervals, 'spanMs', span, 'lastServedMs', last, 'maxGapMs', maxGap)
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('HSET', KEYS[4], 'idleSince', at) end
return 1
`;

/**
 * A title's batch. KEYS: line, seen, meta, log. ARGV: since (the seq of the caller's last read; -1 = none), the
 * change it read as the newest then, now (ms), stale before (ms), R (sessions whose liveness is refreshed), A
 * (ids that always want a rank), then R pairs (session id, score it re-enters at when missing from the line),
 * then the A ids, then the ids that want a rank only when the log cannot bring the caller up to date (it no
 * longer reaches back to `since`, or its change there differs: the keys were lost or rolled back, e.g. by a
 * failover).
 *
 * The refresh comes first, for all R sessions at once (see "Stale entries" in queue-redis.ts): one ZADD of
 * their `seen`, one ZMSCORE to find those missing from the line and one ZADD to put them back, one stale scan
 * of up to 16 entries; the changes are logged, so the reads after it include them.
 * Returns { seq, 1 when complete, the newest change, the changes after `since` (newest first), the rate
 * summary (evidence, intervals, spanMs, lastServedMs, maxGapMs, idleMs), { rank, score } pairs for the ids
 * ranked (-1 and '' when not in line) }.
 */
const REFRESH_AND_READ = `${logChanges(3, 4)}
local since, expected, now, staleBefore = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local refreshing, always = tonumber(ARGV[5]), tonumber(ARGV[6])
local ranked = 7 + 2 * refreshing
if refreshing > 0 then
  local ids, seen = {}, {}
  for i = 1, refreshing do
    ids[i] = ARGV[5 + 2 * i]
    seen[2 * i - 1], seen[2 * i] = now, ids[i]
  end
  redis.call('ZADD', KEYS[2], unpack(seen))
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids))
  local back, changes = {}, {}
  for i = 1, refreshing do
    if not scores[i] then
      local score = ARGV[6 + 2 * i]
      back[#back + 1] = score
      back[#back + 1] = ids[i]
      changes[#changes + 1] = '+' .. score
    end
  end
  if #back > 0 then redis.call('ZADD', KEYS[1], unpack(back)) end
  local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. staleBefore, 'LIMIT', 0, 16)
  if #stale > 0 then
    local staleScores, gone = redis.call('ZMSCORE', KEYS[1], unpack(stale)), {}
    for i, old in ipairs(stale) do
      if staleScores[i] then
        gone[#gone + 1] = old
        changes[#changes + 1] = '-' .. staleScores[i]
      end
    end
    if #gone > 0 then redis.call('ZREM', KEYS[1], unpack(gone)) end
    redis.call('ZREM', KEYS[2], unpack(stale))
  end
  logChanges(changes)
end
local meta = redis.call('HMGET', KEYS[3], 'seq', 'newest', 'evidence', 'intervals', 'spanMs', 'lastServedMs', 'maxGapMs', 'idleMs')
for i = 1, 8 do if meta[i] == false then meta[i] = '' end end
local seq, newest = tonumber(meta[1]) or 0, meta[2]
local complete, changes = false, {}
if since == seq then
  complete = newest == expected
elseif since >= 0 and since < seq and seq - since < ${LOG_MAX} then
  -- Down to the change numbered \`since\` (none is numbered 0), to check it is the one the caller has.
  local last = seq - since
  if since == 0 then last = seq - 1 end
  changes = redis.call('LRANGE', KEYS[4], 0, last)
  complete = #changes == last + 1
  if since > 0 then
    complete = complete and changes[#changes] == expected
    changes[#changes] = nil
  end
end
if not complete then changes = {} end
local upto = #ARGV
if complete then upto = ranked - 1 + always end
local ranks = {}
for i = ranked, upto do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score then
    ranks[#ranks + 1] = redis.call('ZRANK', KEYS[1], ARGV[i])
    ranks[#ranks + 1] = score
  else
    ranks[#ranks + 1] = -1
    ranks[#ranks + 1] = ''
  end
end
return { seq, complete and 1 or 0, newest, changes, { meta[3], meta[4], meta[5], meta[6], meta[7], meta[8] }, ranks }
`;

/** REFRESH_AND_READ's reply: seq, complete (1/0), newest change, changes since, rate summary, { rank, score } pairs. */
export type LineReply = [number, number, string, string[], string[], (number | string)[]];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gsmsQueueEvent(line: string, seen: string, served: string, meta: string, log: string, kind: string, sessionId: string, at: number, window: number, lag: number): Result<number, Context>;
    gsmsQueueBatch(line: string, seen: string, meta: string, log: string, since: number, expected: string, now: number, staleBefore: number, refreshing: number, always: number, ...idsAndScores: (string | number)[]): Result<LineReply, Context>;
  }
}

/** Makes the scripts callable on the connection (ioredis sends EVALSHA, loading the script on a miss). */
export function defineQueueScripts(redis: Redis | Cluster): void {
  redis.defineCommand('gsmsQueueEvent', { numberOfKeys: 5, lua: APPLY_EVENT });
  redis.defineCommand('gsmsQueueBatch', { numberOfKeys: 4, lua: REFRESH_AND_READ });
}
