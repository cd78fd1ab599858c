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
 * `staleAfterMs`), and each call that refreshes any removes up to 16 entries not seen for `staleAfterMs`
 * (longer than any gap between two polls of a watched session): a stale entry costs the sessions behind it
 * one place for at most that long. A polled session missing from the line (its entry was lost that way, or
 * it was queued before this tracker ran) is put back at its request time (score `requestedAt` × 2048).
 * The refreshes due go out together in the title's batch call (below): one ZADD of their `seen`, one ZMSCORE
 * on the line, one ZADD of those missing, one stale scan, the changes logged. A script call per refresh kept
 * a big title's master at half of a 3-master cluster's commands (every other per-session key spreads over
 * all masters); batched, refreshing costs a handful of commands per batch however many sessions are due.
 *
 * Per poll: no Redis command, in the steady state, however busy the line. Every session of a title is in
 * that title's slot, so one command per poll would put a busy title's polls all on one Redis master. An
 * instance remembers each session's rank with the score and the `seq` it held at, and a copy of the title's
 * recent changes (queue-rank-cache.ts): the rank now is the rank then, ± one for each entry added or removed
 * ahead of it since. Polls of a title wait up to RANK_BATCH_MS and go out together as one script call
 * (queue-redis-scripts.ts), which refreshes the liveness of those due, then returns the title's `seq`, the
 * changes since the instance's last call (checked to join on to what it has; the refresh's own changes among
 * them), the rate summary and, only for sessions this instance has no usable rank for (first poll here,
 * adopted from a dead instance, rank older than the changes kept, or a change at its own score), ZRANK and
 * ZSCORE. So the title's master sees one call every RANK_BATCH_MS per instance, whatever the poll rate: one
 * HMGET when the line has not changed since, an LRANGE besides when it has, and the refresh's ZADD, ZMSCORE
 * and ZRANGEBYSCORE when sessions are due. An event applied here goes out on the same connection before any
 * later batch, so the next standing sees it; a refresh waits for its batch, so an event that takes its
 * session out of the line cancels a refresh still waiting (it would put the session back).
 */
import type { Cluster, Redis } from 'ioredis';
import type { ClusterRecord } from './cluster-record.js';
import type { Logger } from './logger.js';
import { QueueRankCache } from './queue-rank-cache.js';
import { defineQueueScripts } from './queue-redis-scripts.js';
import { SERVED_WINDOW, estimateWaitMs, observationLagMs, type QueueStanding, type QueueTracker, type ServiceRate } from './queue-tracker.js';
import type { ClusterStateEvent } from './state-events.js';

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

interface Waiter {
  sessionId: string;
  resolve(standing: LineStanding): void;
  reject(error: unknown): void;
}

/** A title's standings and liveness refreshes waiting to go out as one script call. */
interface TitleBatch {
  keys: TitleKeys;
  waiters: Waiter[];
  /** Sessions whose liveness the call refreshes, each with the score it re-enters at if missing from the line. */
  refreshes: Map<string, number>;
  /** Resolves once the call's reply (or failure) is in. */
  done: Promise<void>;
  finish(): void;
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
  readonly #batches = new Map<string, TitleBatch>();
  /**
   * Batches carrying liveness refreshes, until their reply is in: a refresh waits for its batch, so it may
   * reach Redis after an event issued later, and `settled()` must wait for it as well.
   */
  readonly #refreshing = new Set<TitleBatch>();

  constructor(options: RedisQueueTrackerOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#logger = options.logger;
    this.#staleAfterMs = options.staleAfterMs ?? 120_000;
    this.#now = options.now ?? Date.now;
    defineQueueScripts(this.#redis);
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
      // A refresh still waiting would put the session back after this event has taken it out.
      this.#batches.get(titleId)?.refreshes.delete(sessionId);
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
    const reenterAt = refresh ? Date.parse(record.requestedAt) * 2048 : undefined;
    const { rank, summary } = await this.#read(record.titleId, record.sessionId, reenterAt);
    if (rank === null) return null;
    const [evidence, intervals, spanMs, lastServedMs, maxGapMs, idleMs] = summary.map((v) => (v === '' ? NaN : Number(v)));
    const rate: ServiceRate | null = Number.isFinite(evidence)
      ? { evidence: evidence!, intervals: intervals!, spanMs: spanMs!, lastServedMs: lastServedMs!, maxGapMs: maxGapMs! }
      : null;
    const position = rank + 1;
    const nowBusyMs = now - (Number.isFinite(idleMs) ? idleMs! : 0);
    return { queuePosition: position, estimatedWaitMs: estimateWaitMs(position, rate, nowBusyMs, observationLagMs(record)) };
  }

  /**
   * The session's standing, out with the title's other reads of the next RANK_BATCH_MS; `reenterAt` (its
   * request time score) when its liveness is refreshed in the same call (see "Stale entries").
   */
  #read(titleId: string, sessionId: string, reenterAt?: number): Promise<LineStanding> {
    const batch = this.#batches.get(titleId) ?? this.#openBatch(titleId);
    if (reenterAt !== undefined) {
      batch.refreshes.set(sessionId, reenterAt);
      this.#refreshing.add(batch);
    }
    const standing = new Promise<LineStanding>((resolve, reject) => batch.waiters.push({ sessionId, resolve, reject }));
    if (batch.waiters.length >= RANK_BATCH_MAX) this.#sendBatch(titleId, batch);
    return standing;
  }

  #openBatch(titleId: string): TitleBatch {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const batch: TitleBatch = { keys: this.#keys(titleId), waiters: [], refreshes: new Map(), done, finish };
    this.#batches.set(titleId, batch);
    setTimeout(() => this.#sendBatch(titleId, batch), RANK_BATCH_MS);
    return batch;
  }

  #sendBatch(titleId: string, batch: TitleBatch): void {
    if (this.#batches.get(titleId) !== batch) return;
    this.#batches.delete(titleId);
    const plan = this.#ranks.plan(titleId, [...new Set(batch.waiters.map((waiter) => waiter.sessionId))]);
    const { line, seen, meta, log } = batch.keys;
    const now = this.#now();
    const refreshes = [...batch.refreshes].flat();
    this.#redis
      .gsmsQueueBatch(line, seen, meta, log, plan.since, plan.expected, now, now - this.#staleAfterMs, batch.refreshes.size, plan.uncached.length, ...refreshes, ...plan.uncached, ...plan.cached)
      .then(
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
        (error: unknown) => {
          // Not refreshed after all: the sessions' next polls try again.
          for (const id of batch.refreshes.keys()) this.#refreshedAt.delete(id);
          batch.waiters.forEach((waiter) => waiter.reject(error));
        },
      )
      .finally(() => {
        this.#refreshing.delete(batch);
        batch.finish();
      });
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

  /** Every event update and liveness refresh issued so far has been applied (or has failed). */
  async settled(): Promise<void> {
    await Promise.all([this.#last, ...[...this.#refreshing].map((batch) => batch.done)]);
  }

  /** The connection belongs to the server. */
  async close(): Promise<void> {}
}
