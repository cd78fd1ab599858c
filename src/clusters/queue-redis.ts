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
 * Per poll: one round trip, either that script or, on the other polls, a plain ZRANK (a script call costs
 * Redis several times its CPU). The title's rate summary (the meta hash) changes only with a fulfilment, so
 * an instance reads it at most once per META_TTL_MS per title and shares it among its polls of that title
 * (HMGET pipelined with that poll's ZRANK); an event applied here drops it at once. Why so frugal: every
 * session of a title is in that title's slot, so a busy title's polls all land on one Redis master.
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

declare module 'ioredis' {
  interface RedisCommander<Context> {
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

  constructor(options: RedisQueueTrackerOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#logger = options.logger;
    this.#staleAfterMs = options.staleAfterMs ?? 120_000;
    this.#now = options.now ?? Date.now;
    this.#redis.defineCommand('gsmsQueueEvent', { numberOfKeys: 4, lua: APPLY_EVENT });
    this.#redis.defineCommand('gsmsQueueStanding', { numberOfKeys: 3, lua: STANDING });
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

  /** ZRANK, with the title's summary from this instance's copy or (stale) HMGET in the same round trip; shaped like the script's reply. */
  async #read(titleId: string, line: string, meta: string, sessionId: string, now: number): Promise<(number | string | null)[]> {
    const cached = this.#meta.get(titleId);
    if (cached && now - cached.at < META_TTL_MS) {
      const [rank, fields] = await Promise.all([this.#redis.zrank(line, sessionId), cached.fields]);
      return [rank, ...fields];
    }
    const read = this.#redis.pipeline().zrank(line, sessionId).hmget(meta, ...META_FIELDS).exec();
    const fields = read.then((results) => {
      if (!results) throw new Error('queue tracker: pipeline was not run');
      for (const [error] of results) if (error) throw error;
      return (results[1]![1] as (string | null)[]).map((v) => v ?? '');
    });
    // Concurrent polls of the title share this read; a failed one is not kept.
    this.#meta.set(titleId, { at: now, fields });
    fields.catch(() => {
      if (this.#meta.get(titleId)?.fields === fields) this.#meta.delete(titleId);
    });
    const results = await read;
    return [(results?.[0]?.[1] as number | null) ?? null, ...(await fields)];
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
