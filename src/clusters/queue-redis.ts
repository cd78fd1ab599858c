/**
 * The queue tracker shared by every instance through Redis: one order per title, one rate per title.
 *
 * Keys, all under the title's own hash tag (one slot per title, so each script runs on a Redis Cluster):
 * - `queue:{t:<title>}`: sorted set of queued session ids, scored by entry time × 2048 + a tie counter (the
 *   order changes were stored within one millisecond); ZRANK gives a position in O(log n);
 * - `queue:{t:<title>}:seen`: the same ids, scored by when they were last polled or entered (liveness);
 * - `queue:{t:<title>}:served`: the last fulfilments' busy times (SERVED_WINDOW + 1 of them);
 * - `queue:{t:<title>}:meta`: hash of the rate summary, the idle clock, the tie counter, `seq` (the number of
 *   changes the line has had) and `newest` (the last of them);
 * - `queue:{t:<title>}:log`: the line's last changes (at least LOG_MAX), newest first, each the entry's score
 *   signed `+` (added) or `-` (removed); the change at index i is change number `seq` − i. Every script that
 *   changes the line logs the change in the same call.
 *
 * Stale entries. The registry stores a change and raises its event; the tracker then updates Redis. An
 * instance that dies in between leaves a fulfilled session in the line, ahead of everyone behind it. Polls
 * therefore refresh their session's `seen` score (its first poll on this instance, then every quarter of
 * `staleAfterMs`) and, in the same script, remove up to 16 entries not seen for `staleAfterMs` (longer than
 * any gap between two polls of a watched session): a stale entry costs the sessions behind it one place for
 * at most that long. A polled session missing from the line (its entry was lost that way, or it was queued
 * before this tracker ran) is put back at its request time.
 *
 * Per poll: no Redis command, in the steady state, however busy the line. Every session of a title is in
 * that title's slot, so one command per poll would put a busy title's polls all on one Redis master. An
 * instance remembers each session's rank with the score and the `seq` it held at, and a copy of the title's
 * recent changes (queue-rank-cache.ts): the rank now is the rank then, ± one for each entry added or removed
 * ahead of it since. Polls of a title wait up to RANK_BATCH_MS and go out together as one script call, which
 * returns the title's `seq`, the changes since the instance's last call (checked to join on to what it has),
 * the rate summary and, only for sessions this instance has no usable rank for (first poll here, adopted
 * from a dead instance, rank older than the changes kept, or a change at its own score), ZRANK and ZSCORE.
 * So the title's master sees one call every RANK_BATCH_MS per instance, whatever the poll rate: one HMGET
 * when the line has not changed since, and an LRANGE besides when it has. The liveness script runs on a
 * session's first poll here and then every quarter of staleAfterMs; its rank and `seq` seed the remembered
 * rank. An event applied here goes out on the same connection before any later batch, so the next standing
 * sees it.
 */
import type { Cluster, Redis, Result } from 'ioredis';
import type { ClusterRecord } from './cluster-record.js';
import type { Logger } from './logger.js';
import { CHANGES_KEPT, QueueRankCache } from './queue-rank-cache.js';
import { SERVED_WINDOW, estimateWaitMs, observationLagMs, type QueueStanding, type QueueTracker, type ServiceRate } from './queue-tracker.js';
import type { ClusterStateEvent } from './state-events.js';

/**
 * The changes the log keeps (an instance further behind reads ranks again), and the Lua that logs a change
 * (KEYS[meta], KEYS[log] given by each script). The newest change is also kept in the meta hash, so a read
 * of a line that has not changed needs no LRANGE; the list is trimmed every 64 changes, not on each. A score
 * is written from Lua with %.0f: Lua's own number-to-string keeps 14 digits, and a score (ms × 2048) has 16.
 */
const LOG_MAX = CHANGES_KEPT;
const logChange = (meta: number, log: number) => `
local function logChange(change)
  local seq = redis.call('HINCRBY', KEYS[${meta}], 'seq', 1)
  redis.call('HSET', KEYS[${meta}], 'newest', change)
  redis.call('LPUSH', KEYS[${log}], change)
  if seq % 64 == 0 then redis.call('LTRIM', KEYS[${log}], 0, ${LOG_MAX - 1}) end
end
`;

// KEYS: line, seen, served, meta, log. ARGV: kind (enter | leave | served), session id, at (ms), window, lag (ms;
// see summarizeServed, which this mirrors).
// Returns 1 when the line changed.
const APPLY_EVENT = `${logChange(4, 5)}
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
  logChange('+' .. score)
  return 1
end
local score = redis.call('ZSCORE', KEYS[1], id)
if not score then return 0 end
redis.call('ZREM', KEYS[1], id)
redis.call('ZREM', KEYS[2], id)
logChange('-' .. score)
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

// KEYS: line, seen, meta, log. ARGV: session id, now (ms), stale before (ms; '' = read only), score to re-enter at.
// Returns rank (-1 = not in line), score, seq (the rank holds at it), the newest change, then evidence,
// intervals, spanMs, lastServedMs, maxGapMs, idleMs.
const STANDING = `${logChange(3, 4)}
local id = ARGV[1]
if ARGV[3] ~= '' then
  if redis.call('ZSCORE', KEYS[1], id) == false then
    redis.call('ZADD', KEYS[1], ARGV[4], id)
    logChange('+' .. ARGV[4])
  end
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3], 'LIMIT', 0, 16)
  for _, old in ipairs(stale) do
    local score = redis.call('ZSCORE', KEYS[1], old)
    if score then
      redis.call('ZREM', KEYS[1], old)
      logChange('-' .. score)
    end
    redis.call('ZREM', KEYS[2], old)
  end
end
local rank = redis.call('ZRANK', KEYS[1], id)
local score = ''
if rank == false then rank = -1 else score = redis.call('ZSCORE', KEYS[1], id) end
local meta = redis.call('HMGET', KEYS[3], 'seq', 'newest', 'evidence', 'intervals', 'spanMs', 'lastServedMs', 'maxGapMs', 'idleMs')
for i = 1, 8 do if meta[i] == false then meta[i] = '' end end
return { rank, score, meta[1], meta[2], meta[3], meta[4], meta[5], meta[6], meta[7], meta[8] }
`;

/**
 * KEYS: line, meta, log. ARGV: since (the seq of the caller's last read; -1 = none), the change it read as the
 * newest then, how many of the ids follow that always want a rank, then those ids, then the ids that want one
 * only when the log cannot bring the caller up to date (it no longer reaches back to `since`, or its change
 * there differs: the keys were lost or rolled back, e.g. by a failover).
 * Returns { seq, 1 when complete, the newest change, the changes after `since` (newest first), the rate
 * summary (6 fields as STANDING), { rank, score } pairs for the ids ranked (-1 and '' when not in line) }.
 */
const READ_LINE = `
local since, expected, always = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local meta = redis.call('HMGET', KEYS[2], 'seq', 'newest', 'evidence', 'intervals', 'spanMs', 'lastServedMs', 'maxGapMs', 'idleMs')
for i = 1, 8 do if meta[i] == false then meta[i] = '' end end
local seq, newest = tonumber(meta[1]) or 0, meta[2]
local complete, changes = false, {}
if since == seq then
  complete = newest == expected
elseif since >= 0 and since < seq and seq - since < ${LOG_MAX} then
  -- Down to the change numbered \`since\` (none is numbered 0), to check it is the one the caller has.
  local last = seq - since
  if since == 0 then last = seq - 1 end
  changes = redis.call('LRANGE', KEYS[3], 0, last)
  complete = #changes == last + 1
  if since > 0 then
    complete = complete and changes[#changes] == expected
    changes[#changes] = nil
  end
end
if not complete then changes = {} end
local upto = #ARGV
if complete then upto = 3 + always end
local ranks = {}
for i = 4, upto do
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

/** READ_LINE's reply: seq, complete (1/0), newest change, changes since, rate summary, { rank, score } pairs. */
type LineReply = [number, number, string, string[], string[], (number | string)[]];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gsmsQueueRead(line: string, meta: string, log: string, since: number, expected: string, always: number, ...sessionIds: string[]): Result<LineReply, Context>;
    gsmsQueueEvent(line: string, seen: string, served: string, meta: string, log: string, kind: string, sessionId: string, at: number, window: number, lag: number): Result<number, Context>;
    gsmsQueueStanding(line: string, seen: string, meta: string, log: string, sessionId: string, now: number, staleBefore: string, score: number): Result<(number | string)[], Context>;
  }
}

export interface RedisQueueTrackerOptions {
  redis: Redis | Cluster;
  keyPrefix: string;
  logger: Logger;
  /**
   * An entry not polled for this long is dropped from the line (see "Stale entries"). Longer than the
   * longest gap between two polls of a watched session: the advised interval, error back-off and a takeover.
   */
  staleAfterMs?: number;
  now?: () => number;
}

/**
 * Standings of one title wait this long to go out together, as one script call on the title's master (see
 * "Per poll"): the master sees a call every 100 ms per instance whatever the poll rate, and a standing is at
 * most 100 ms older (a script call costs this machine's Redis 60-90 µs; ten a second per title are nothing
 * beside the polls).
 */
const RANK_BATCH_MS = 100;
const RANK_BATCH_MAX = 500;

/** A rank (null: not in line) and the title's rate summary (6 fields as the scripts return them). */
interface LineStanding {
  rank: number | null;
  summary: string[];
}

interface TitleKeys {
  line: string;
  seen: string;
  served: string;
  meta: string;
  log: string;
}

interface ReadBatch {
  keys: TitleKeys;
  waiters: { sessionId: string; resolve(standing: LineStanding): void; reject(error: unknown): void }[];
}

const TYPE_KIND = { 'cluster.queued': 'enter', 'cluster.fulfilled': 'served', 'cluster.aborted': 'leave', 'cluster.watch_timeout': 'leave' } as const;

export class RedisQueueTracker implements QueueTracker {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #staleAfterMs: number;
  readonly #now: () => number;
  /** The last event update issued: updates go out on one connection in order, so this settles after all. */
  #last: Promise<unknown> = Promise.resolve();
  /** When this instance last refreshed each polled session's liveness. */
  readonly #refreshedAt = new Map<string, number>();
  #sweptAt = 0;
  /** Ranks and line changes as last read here (see "Per poll"). */
  readonly #ranks = new QueueRankCache();
  /** Standings waiting to go out, by title. */
  readonly #batches = new Map<string, ReadBatch>();

  constructor(options: RedisQueueTrackerOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#logger = options.logger;
    this.#staleAfterMs = options.staleAfterMs ?? 120_000;
    this.#now = options.now ?? Date.now;
    this.#redis.defineCommand('gsmsQueueEvent', { numberOfKeys: 5, lua: APPLY_EVENT });
    this.#redis.defineCommand('gsmsQueueStanding', { numberOfKeys: 4, lua: STANDING });
    this.#redis.defineCommand('gsmsQueueRead', { numberOfKeys: 3, lua: READ_LINE });
  }

  /** The title's keys, all in one slot. */
  #keys(titleId: string): TitleKeys {
    const line = `${this.#prefix}queue:{t:${titleId}}`;
    return { line, seen: `${line}:seen`, served: `${line}:served`, meta: `${line}:meta`, log: `${line}:log` };
  }

  onStateEvent(event: ClusterStateEvent): void {
    const { sessionId, titleId } = event.record;
    if (event.type !== 'cluster.queued') {
      this.#refreshedAt.delete(sessionId);
      this.#ranks.forget(sessionId);
    }
    const k = this.#keys(titleId);
    const update = this.#redis
      .gsmsQueueEvent(k.line, k.seen, k.served, k.meta, k.log, TYPE_KIND[event.type], sessionId, Date.parse(event.at), SERVED_WINDOW, observationLagMs(event.record))
      .catch((error: unknown) => {
        // The entry is put back (or dropped as stale) by the session's next poll: see "Stale entries".
        this.#logger.warn({ err: error, sessionId, type: event.type }, 'queue tracker could not apply a state event');
      });
    this.#last = update;
  }

  async standing(record: ClusterRecord, options: { polled?: boolean } = {}): Promise<QueueStanding | null> {
    if (record.state !== 'QUEUED') return null;
    const now = this.#now();
    this.#sweep(now);
    const refresh = options.polled === true && this.#dueForRefresh(record.sessionId, now);
    const { rank, summary } = refresh ? await this.#refresh(record, now) : await this.#read(record.titleId, record.sessionId);
    if (rank === null) return null;
    const [evidence, intervals, spanMs, lastServedMs, maxGapMs, idleMs] = summary.map((v) => (v === '' ? NaN : Number(v)));
    const rate: ServiceRate | null = Number.isFinite(evidence)
      ? { evidence: evidence!, intervals: intervals!, spanMs: spanMs!, lastServedMs: lastServedMs!, maxGapMs: maxGapMs! }
      : null;
    const position = rank + 1;
    const nowBusyMs = now - (Number.isFinite(idleMs) ? idleMs! : 0);
    return { queuePosition: position, estimatedWaitMs: estimateWaitMs(position, rate, nowBusyMs, observationLagMs(record)) };
  }

  /** The liveness script (see "Stale entries"); its rank seeds this instance's copy. */
  async #refresh(record: ClusterRecord, now: number): Promise<LineStanding> {
    const k = this.#keys(record.titleId);
    const staleBefore = String(now - this.#staleAfterMs);
    const reply = await this.#redis.gsmsQueueStanding(k.line, k.seen, k.meta, k.log, record.sessionId, now, staleBefore, Date.parse(record.requestedAt) * 2048);
    const [rank, score, seq] = reply.map(Number) as [number, number, number];
    this.#ranks.remember(record.sessionId, record.titleId, rank, score, seq, now);
    this.#ranks.start(record.titleId, seq, String(reply[3]), now);
    return { rank: rank < 0 ? null : rank, summary: reply.slice(4).map(String) };
  }

  /** The session's standing, out with the title's other reads of the next RANK_BATCH_MS. */
  #read(titleId: string, sessionId: string): Promise<LineStanding> {
    let batch = this.#batches.get(titleId);
    if (!batch) {
      const opened: ReadBatch = { keys: this.#keys(titleId), waiters: [] };
      this.#batches.set(titleId, (batch = opened));
      setTimeout(() => this.#sendBatch(titleId, opened), RANK_BATCH_MS);
    }
    const pending = batch;
    const standing = new Promise<LineStanding>((resolve, reject) => pending.waiters.push({ sessionId, resolve, reject }));
    if (pending.waiters.length >= RANK_BATCH_MAX) this.#sendBatch(titleId, pending);
    return standing;
  }

  #sendBatch(titleId: string, batch: ReadBatch): void {
    if (this.#batches.get(titleId) !== batch) return;
    this.#batches.delete(titleId);
    const plan = this.#ranks.plan(titleId, [...new Set(batch.waiters.map((waiter) => waiter.sessionId))]);
    const { line, meta, log } = batch.keys;
    this.#redis.gsmsQueueRead(line, meta, log, plan.since, plan.expected, plan.uncached.length, ...plan.uncached, ...plan.cached).then(
      ([seq, complete, newest, changes, summary, ranks]) => {
        const now = this.#now();
        this.#ranks.catchUp(titleId, plan.since, { seq, complete: complete === 1, newest, changes }, now);
        const read = new Map<string, number | null>();
        for (const [i, id] of (complete === 1 ? plan.uncached : [...plan.uncached, ...plan.cached]).entries()) {
          const rank = Number(ranks[2 * i]);
          this.#ranks.remember(id, titleId, rank, Number(ranks[2 * i + 1]), seq, now);
          read.set(id, rank < 0 ? null : rank);
        }
        for (const waiter of batch.waiters) {
          const rank = read.has(waiter.sessionId) ? read.get(waiter.sessionId)! : this.#ranks.rankOf(waiter.sessionId, now);
          // A change at its own score (or a copy swept meanwhile): Redis ranks it in the next batch.
          if (rank === undefined) this.#read(titleId, waiter.sessionId).then(waiter.resolve, waiter.reject);
          else waiter.resolve({ rank, summary });
        }
      },
      (error: unknown) => batch.waiters.forEach((waiter) => waiter.reject(error)),
    );
  }

  /** Sessions now polled by another instance (or gone without an event here) are forgotten. */
  #sweep(now: number): void {
    if (now - this.#sweptAt <= this.#staleAfterMs) return;
    this.#sweptAt = now;
    for (const [id, at] of this.#refreshedAt) if (now - at > this.#staleAfterMs) this.#refreshedAt.delete(id);
    this.#ranks.sweep(now, this.#staleAfterMs);
  }

  /** Whether this poll refreshes the session's liveness (see "Stale entries"). */
  #dueForRefresh(sessionId: string, now: number): boolean {
    const last = this.#refreshedAt.get(sessionId);
    if (last !== undefined && now - last < this.#staleAfterMs / 4) return false;
    this.#refreshedAt.set(sessionId, now);
    return true;
  }

  async settled(): Promise<void> {
    await this.#last;
  }

  /** The connection belongs to the server. */
  async close(): Promise<void> {}
}
