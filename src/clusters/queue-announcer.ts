/**
 * Tells a queued session's subscribers where it stands, once per poll at most: the poller calls `afterPoll`
 * after each recorded poll of a session still queued, and a status event carrying the new standing goes out
 * only when it changed meaningfully (standingChanged). Recomputing here, not on every fulfilment, keeps the
 * cost at one lookup per poll however long the line is: O(polls), never O(queued²).
 */
import type { ClusterRecord } from './cluster-record.js';
import type { ClusterPubSub } from './pubsub.js';
import { standingChanged, type QueueStanding, type QueueTracker } from './queue-tracker.js';
import type { ClusterStateEvent } from './state-events.js';

/** A remembered standing not refreshed for this long belongs to a session polled elsewhere now: forget it. */
const FORGET_AFTER_MS = 10 * 60_000;

export class QueueAnnouncer {
  /** The standing last published per session, from this instance. */
  readonly #published = new Map<string, { standing: QueueStanding; at: number }>();
  #sweptAt: number;

  constructor(
    private readonly tracker: QueueTracker,
    private readonly pubsub: ClusterPubSub,
    private readonly now: () => number = Date.now,
  ) {
    this.#sweptAt = now();
  }

  /** The registries' listener: feeds the tracker and forgets sessions that left the line. */
  readonly onStateEvent = (event: ClusterStateEvent): void => {
    this.tracker.onStateEvent(event);
    if (event.type !== 'cluster.queued') this.#published.delete(event.record.sessionId);
  };

  /** The poller's hook (ClusterPollerOptions.afterPoll). */
  readonly afterPoll = async (record: ClusterRecord): Promise<void> => {
    if (record.state !== 'QUEUED') return;
    const standing = await this.tracker.standing(record, { polled: true });
    if (!standing) return;
    const now = this.now();
    this.#sweep(now);
    const last = this.#published.get(record.sessionId);
    if (last && !standingChanged(last.standing, standing)) {
      last.at = now;
      return;
    }
    this.#published.set(record.sessionId, { standing, at: now });
    this.pubsub.publish('cluster:status', record.sessionId, { type: 'status', record, standing });
  };

  /** Sessions with a remembered standing (for tests). */
  get size(): number {
    return this.#published.size;
  }

  /** In Redis mode a session's terminal change may be stored on another instance: drop what went quiet. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [sessionId, { at }] of this.#published) if (now - at > FORGET_AFTER_MS) this.#published.delete(sessionId);
  }
}
