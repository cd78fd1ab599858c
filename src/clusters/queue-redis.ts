/**
 * The queue tracker shared by every instance through Redis: one order per title, one rate per title.
 *
 * Keys, all under the title's own hash tag (one slot per title, so each script runs on a Redis Cluster):
 * - `queue:{t:<title>}`: sorted set of queued session ids, scored by entry time × 2048 + a tie counter (the
 *   order changes were stored within one millisecond); ZRANK gives a position in O(log n);
 * - `queue:{t:<title>}:seen`: the same ids, scored by when they were last polled or entered (liveness);
 * - `queue:{t:<title>}:served`: the last fulfilments' busy times (SERVED_WINDOW + 1 of them);
 * - `queue:{t:<title>}:meta`: hash of the rate summary, the idle clock and the tie counter.
 *
 * Stale entries. The registry stores a change and raises its event; the tracker then updates Redis. An
 * instance that dies in between leaves a fulfilled session in the line, ahead of everyone behind it. Polls
 * therefore refresh their session's `seen` score (its first poll on this instance, then every quarter of
 * `staleAfterMs`) and, in the same script, remove up to 16 entries not seen for `staleAfterMs` (longer than
 * any gap between two polls of a watched session): a stale entry costs the sessions behind it one place for
 * at most that long. A polled session missing from the line (its entry was lost that way, or it was queued
 * before this tracker ran) is put back at its request time.
 *
 * Per poll: almost nothing. The liveness script runs on a session's first poll here and then every quarter of
 * staleAfterMs; every other poll's rank goes out in a batch with the title's other polls of the last 100 ms
 * (one script call: RANK_BATCH_MS). The title's rate summary (the meta hash) changes only with a fulfilment,
 * so an instance reads it at most once per META_TTL_MS per title and shares it among its polls of that
 * title; an event applied here drops it at once. Why so frugal: every session of a title is in that title's
 * slot, so a busy title's polls would otherwise all land on one Redis master.
 */
import type { Cluster, Redis, Result } from 'ioredis';
import type { ClusterRecord } from './cluster-record.js';
import type { Logger } from './logger.js';
import { SERVED_WINDOW, estimateWaitMs, observationLagMs, type QueueStanding, type QueueTracker, type ServiceRate } from './queue-tracker.js';
import type { ClusterStateEvent } from './state-events.js';

// KEYS: line, seen, served, meta. ARGV: kind (enter | leave | served), session id, at (ms), window, lag (ms; see
// summarizeServed, which this mirrors).
// Returns 1 when the line changed.
const APPLY_EVENT = `
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
  redis.call('ZADD', KEYS[1], at * 2048 + math.min(tie, 2047), id)
  redis.call('ZADD', KEYS[2], at, id)
  return 1
end
if redis.call('ZREM', KEYS[1], id) == 0 then return 0 end
redis.call('ZREM', KEYS[2], id)
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

// KEYS: line, seen, meta. ARGV: session id, now (ms), stale before (ms; '' = read only), score to re-enter at.
// Returns rank (-1 = not in line), then evidence, intervals, spanMs, lastServedMs, maxGapMs, idleMs.
const STANDING = `
local id = ARGV[1]
if ARGV[3] ~= '' then
  if redis.call('ZSCORE', KEYS[1], id) == false then redis.call('ZADD', KEYS[1], ARGV[4], id) end
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3], 'LIMIT', 0, 16)
  for _, old in ipairs(stale) do
    redis.call('ZREM', KEYS[1], old)
    redis.call('ZREM', KEYS[2], old)
  end
end
local rank = redis.call('ZRANK', KEYS[1], id)
if rank == false then rank = -1 end
local meta = redis.call('HMGET', KEYS[3], 'evidence', 'intervals', 'spanMs', 'lastServedMs', 'maxGapMs', 'idleMs')
for i = 1, 6 do if meta[i] == false then meta[i] = '' end end
return { rank, meta[1], meta[2], meta[3], meta[4], meta[5], meta[6] }
`;

// KEYS: line. ARGV: session ids. Returns each one's rank (-1 = not in line), in order.
const RANKS = `
local ranks = {}
for i, id in ipairs(ARGV) do ranks[i] = redis.call('ZRANK', KEYS[1], id) or -1 end
return ranks
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gsmsQueueRanks(line: string, ...sessionIds: string[]): Result<number[], Context>;
    gsmsQueueEvent(line: string, seen: string, served: string, meta: string, kind: string, sessionId: string, at: number, window: number, lag: number): Result<number, Context>;
    gsmsQueueStanding(line: string, seen: string, meta: string, sessionId: string, now: number, staleBefore: string, score: number): Result<(number | string | null)[], Context>;
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

const META_FIELDS = ['evidence', 'intervals', 'spanMs', 'lastServedMs', 'maxGapMs', 'idleMs'] as const;
/** How long an instance reuses a title's rate summary (changed by a fulfilment on another instance meanwhile). */
const META_TTL_MS = 1_000;
/**
 * Polls' rank lookups of one title wait this long to go out together, as one script call on the title's
 * master. One ZRANK per poll put every poll of a big title on one master (two thirds of all commands there on
 * a 3-master cluster, whose other commands the buckets spread evenly); batched, the title's master sees a
 * call every 100 ms per instance whatever the poll rate, and a standing is at most 100 ms older (a script call
 * costs this machine's Redis 60-90 µs; ten a second per title are nothing beside the polls).
 */
const RANK_BATCH_MS = 100;
const RANK_BATCH_MAX = 500;

interface RankBatch {
  line: string;
  ids: string[];
  waiters: { resolve(rank: number | null): void; reject(error: unknown): void }[];
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
  /** Each title's rate summary as last read here (see "Per poll"). */
  readonly #meta = new Map<string, { at: number; fields: Promise<string[]> }>();
  /** Rank lookups waiting to go out, by title. */
  readonly #rankBatches = new Map<string, RankBatch>();

  constructor(options: RedisQueueTrackerOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#logger = options.logger;
    this.#staleAfterMs = options.staleAfterMs ?? 120_000;
    this.#now = options.now ?? Date.now;
    this.#redis.defineCommand('gsmsQueueEvent', { numberOfKeys: 4, lua: APPLY_EVENT });
    this.#redis.defineCommand('gsmsQueueStanding', { numberOfKeys: 3, lua: STANDING });
    this.#redis.defineCommand('gsmsQueueRanks', { numberOfKeys: 1, lua: RANKS });
  }

  /** The title's keys, all in one slot. */
  #keys(titleId: string): { line: string; seen: string; served: string; meta: string } {
    const line = `${this.#prefix}queue:{t:${titleId}}`;
    return { line, seen: `${line}:seen`, served: `${line}:served`, meta: `${line}:meta` };
  }

  onStateEvent(event: ClusterStateEvent): void {
    const { sessionId, titleId } = event.record;
    if (event.type !== 'cluster.queued') this.#refreshedAt.delete(sessionId);
    this.#meta.delete(titleId);
    const k = this.#keys(titleId);
    const update = this.#redis
      .gsmsQueueEvent(k.line, k.seen, k.served, k.meta, TYPE_KIND[event.type], sessionId, Date.parse(event.at), SERVED_WINDOW, observationLagMs(event.record))
      .catch((error: unknown) => {
        // The entry is put back (or dropped as stale) by the session's next poll: see "Stale entries".
        this.#logger.warn({ err: error, sessionId, type: event.type }, 'queue tracker could not apply a state event');
      });
    this.#last = update;
  }

  async standing(record: ClusterRecord, options: { polled?: boolean } = {}): Promise<QueueStanding | null> {
    if (record.state !== 'QUEUED') return null;
    const k = this.#keys(record.titleId);
    const now = this.#now();
    const refresh = options.polled === true && this.#dueForRefresh(record.sessionId, now);
    const reply = refresh
      ? await this.#redis.gsmsQueueStanding(k.line, k.seen, k.meta, record.sessionId, now, String(now - this.#staleAfterMs), Date.parse(record.requestedAt) * 2048)
      : await this.#read(record.titleId, k.line, k.meta, record.sessionId, now);
    if (refresh) this.#meta.set(record.titleId, { at: now, fields: Promise.resolve(reply.slice(1).map(String)) });
    if (reply[0] === null || Number(reply[0]) < 0) return null;
    const rank = Number(reply[0]);
    const [evidence, intervals, spanMs, lastServedMs, maxGapMs, idleMs] = reply.slice(1).map((v) => (v === '' ? NaN : Number(v)));
    const rate: ServiceRate | null = Number.isFinite(evidence)
      ? { evidence: evidence!, intervals: intervals!, spanMs: spanMs!, lastServedMs: lastServedMs!, maxGapMs: maxGapMs! }
      : null;
    const position = rank + 1;
    const nowBusyMs = now - (Number.isFinite(idleMs) ? idleMs! : 0);
    return { queuePosition: position, estimatedWaitMs: estimateWaitMs(position, rate, nowBusyMs, observationLagMs(record)) };
  }

  /** The session's rank (batched with the title's other lookups) and the title's summary (this instance's copy, or HMGET once it is stale); shaped like the script's reply. */
  async #read(titleId: string, line: string, meta: string, sessionId: string, now: number): Promise<(number | string | null)[]> {
    const [rank, fields] = await Promise.all([this.#rank(titleId, line, sessionId), this.#summary(titleId, meta, now)]);
    return [rank, ...fields];
  }

  #summary(titleId: string, meta: string, now: number): Promise<string[]> {
    const cached = this.#meta.get(titleId);
    if (cached && now - cached.at < META_TTL_MS) return cached.fields;
    const fields = this.#redis.hmget(meta, ...META_FIELDS).then((values) => values.map((v) => v ?? ''));
    // Concurrent polls of the title share this read; a failed one is not kept.
    this.#meta.set(titleId, { at: now, fields });
    fields.catch(() => {
      if (this.#meta.get(titleId)?.fields === fields) this.#meta.delete(titleId);
    });
    return fields;
  }

  #rank(titleId: string, line: string, sessionId: string): Promise<number | null> {
    let batch = this.#rankBatches.get(titleId);
    if (!batch) {
      const opened: RankBatch = { line, ids: [], waiters: [] };
      this.#rankBatches.set(titleId, (batch = opened));
      setTimeout(() => this.#sendRanks(titleId, opened), RANK_BATCH_MS);
    }
    const pending = batch;
    const rank = new Promise<number | null>((resolve, reject) => pending.waiters.push({ resolve, reject }));
    pending.ids.push(sessionId);
    if (pending.ids.length >= RANK_BATCH_MAX) this.#sendRanks(titleId, pending);
    return rank;
  }

  #sendRanks(titleId: string, batch: RankBatch): void {
    if (this.#rankBatches.get(titleId) !== batch) return;
    this.#rankBatches.delete(titleId);
    this.#redis.gsmsQueueRanks(batch.line, ...batch.ids).then(
      (ranks) => batch.waiters.forEach((waiter, i) => waiter.resolve(ranks[i]! < 0 ? null : ranks[i]!)),
      (error: unknown) => batch.waiters.forEach((waiter) => waiter.reject(error)),
    );
  }

  /** Whether this poll refreshes the session's liveness (see "Stale entries"). */
  #dueForRefresh(sessionId: string, now: number): boolean {
    if (now - this.#sweptAt > this.#staleAfterMs) {
      // Sessions now polled by another instance (or gone without an event here) are forgotten.
      this.#sweptAt = now;
      for (const [id, at] of this.#refreshedAt) if (now - at > this.#staleAfterMs) this.#refreshedAt.delete(id);
    }
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
