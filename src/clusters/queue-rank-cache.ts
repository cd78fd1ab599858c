/**
 * What one instance remembers of the titles' lines in Redis, so that a queued session's position costs no
 * Redis command while the line moves (see "Per poll" in queue-redis.ts).
 *
 * Per session: its rank as last read from Redis, with its score and the title's change sequence number the
 * rank held at. Per title: the line's recent changes, copied from the title's change log in Redis (a signed
 * score each: + added, − removed). A session's rank now is its rank then, plus one for each entry added
 * ahead of it since (a lower score), minus one for each removed. That is exact, as a rank in a sorted set is
 * the number of entries with a lower score, plus those with an equal one and a lower id. A change AT the
 * session's own score (the session itself leaving or re-entering, or another entry with an equal score, which
 * Redis orders by id) cannot be placed from a score alone, and a rank older than the changes kept cannot be
 * brought forward: those are read from Redis again (`rankOf` answers undefined).
 */

/** Changes kept per title: as many as the log in Redis keeps (LOG_MAX in queue-redis-scripts.ts). */
export const CHANGES_KEPT = 4_096;

interface CachedRank {
  titleId: string;
  rank: number;
  score: number;
  /** The title's sequence number the rank held at. */
  seq: number;
  usedAt: number;
}

/** One title's recent changes: those with sequence numbers in (floor, seq]. */
class TitleChanges {
  floor: number;
  seq: number;
  /** The newest change as stored in Redis: the next read checks the log still holds it (REFRESH_AND_READ). */
  newest: string;
  usedAt: number;
  /** Unsigned scores and their signs (+1 added, −1 removed); index i has sequence number floor + 1 + i. */
  #scores: number[] = [];
  #deltas: number[] = [];

  constructor(seq: number, newest: string, now: number) {
    this.floor = seq;
    this.seq = seq;
    this.newest = newest;
    this.usedAt = now;
  }

  /** Appends the changes after `seq` up to `to` (newest first, as the log lists them). */
  append(newestFirst: readonly string[], to: number, newest: string): void {
    for (let i = newestFirst.length - 1; i >= 0; i -= 1) {
      const change = newestFirst[i]!;
      this.#deltas.push(change.startsWith('-') ? -1 : 1);
      this.#scores.push(Math.abs(Number(change)));
    }
    this.seq = to;
    this.newest = newest;
    const excess = this.#scores.length - CHANGES_KEPT;
    if (excess > 0) {
      this.#scores.splice(0, excess);
      this.#deltas.splice(0, excess);
      this.floor += excess;
    }
  }

  /** Brings a rank forward to `seq`; undefined when a change cannot be placed (see the header). */
  advance(cached: CachedRank): number | undefined {
    if (cached.seq >= this.seq) return cached.rank;
    if (cached.seq < this.floor) return undefined;
    let rank = cached.rank;
    for (let i = cached.seq - this.floor; i < this.#scores.length; i += 1) {
      const score = this.#scores[i]!;
      if (score === cached.score) return undefined;
      if (score < cached.score) rank += this.#deltas[i]!;
    }
    return rank;
  }
}

/** The log as read from Redis for a title: see the batch script in queue-redis-scripts.ts. */
export interface LogRead {
  /** The title's sequence number now. */
  seq: number;
  /** Whether `changes` are all the changes since the sequence number asked for. */
  complete: boolean;
  /** Newest first. */
  changes: readonly string[];
  /** The newest change ('' when none was ever logged). */
  newest: string;
}

export class QueueRankCache {
  readonly #sessions = new Map<string, CachedRank>();
  readonly #titles = new Map<string, TitleChanges>();

  /** What to ask Redis for the title: the log since `since` (checked against `expected`), and whose ranks. */
  plan(titleId: string, sessionIds: readonly string[]): { since: number; expected: string; uncached: string[]; cached: string[] } {
    const title = this.#titles.get(titleId);
    const uncached: string[] = [];
    const cached: string[] = [];
    for (const id of sessionIds) {
      const entry = this.#sessions.get(id);
      // A rank older than the kept changes needs Redis whatever the log says.
      if (title && entry && entry.titleId === titleId && entry.seq >= title.floor) cached.push(id);
      else uncached.push(id);
    }
    return { since: title?.seq ?? -1, expected: title?.newest ?? '', uncached, cached };
  }

  /**
   * Takes in what the log says since `since` (the plan's); a gap (or a first read) starts the title's copy
   * afresh. Two reads of a title may be out at once (a full batch goes at once): the later one brings only
   * what the earlier did not.
   */
  catchUp(titleId: string, since: number, read: LogRead, now: number): void {
    const title = this.#titles.get(titleId);
    if (!title || !read.complete || since > title.seq) {
      this.#titles.set(titleId, new TitleChanges(read.seq, read.newest, now));
      return;
    }
    const fresh = read.seq - title.seq;
    if (fresh > 0) title.append(read.changes.slice(0, fresh), read.seq, read.newest);
    title.usedAt = now;
  }

  /** A rank read from Redis at sequence number `seq` (-1: not in the line, nothing to remember). */
  remember(sessionId: string, titleId: string, rank: number, score: number, seq: number, now: number): void {
    if (rank < 0 || !Number.isFinite(score)) this.#sessions.delete(sessionId);
    else this.#sessions.set(sessionId, { titleId, rank, score, seq, usedAt: now });
  }

  /** The session's rank as of the title's last read; undefined when Redis must be asked (see the header). */
  rankOf(sessionId: string, now: number): number | undefined {
    const entry = this.#sessions.get(sessionId);
    const title = entry && this.#titles.get(entry.titleId);
    if (!entry || !title) return undefined;
    const rank = title.advance(entry);
    if (rank === undefined) {
      this.#sessions.delete(sessionId);
      return undefined;
    }
    if (title.seq > entry.seq) [entry.rank, entry.seq] = [rank, title.seq];
    entry.usedAt = now;
    return rank;
  }

  forget(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  /** Drops sessions and titles not asked about for `maxAgeMs` (polled elsewhere now, or gone). */
  sweep(now: number, maxAgeMs: number): void {
    for (const [id, entry] of this.#sessions) if (now - entry.usedAt > maxAgeMs) this.#sessions.delete(id);
    for (const [id, title] of this.#titles) if (now - title.usedAt > maxAgeMs) this.#titles.delete(id);
  }
}
