/**
 * The queue tracker for one gateway process (the in-memory registry's companion). It hears every change
 * synchronously from the registry that stored it, so its order can never hold a stale entry.
 *
 * Per title, queued sessions take slots in arrival order; a Fenwick tree over the slots counts the live ones
 * before a slot, so a position costs O(log n) and a session may leave from anywhere in the line. Slots are
 * compacted when the line has moved on far enough that most of the tree is empty.
 */
import type { ClusterRecord } from './cluster-record.js';
import {
  SERVED_WINDOW,
  estimateWaitMs,
  observationLagMs,
  summarizeServed,
  type QueueStanding,
  type QueueTracker,
  type ServiceRate,
} from './queue-tracker.js';
import type { ClusterStateEvent } from './state-events.js';

/** Slots of one title's line: live ones counted by a Fenwick tree. */
class Line {
  #tree: number[] = [0];
  #ids: (string | undefined)[] = [];
  readonly #slotOf = new Map<string, number>();

  get size(): number {
    return this.#slotOf.size;
  }

  has(sessionId: string): boolean {
    return this.#slotOf.has(sessionId);
  }

  /** Joins the back of the line. */
  push(sessionId: string): void {
    if (this.#ids.length >= this.#tree.length - 1) this.#grow();
    const slot = this.#ids.length;
    this.#ids.push(sessionId);
    this.#slotOf.set(sessionId, slot);
    this.#add(slot, 1);
  }

  /** Leaves from wherever it stands; false when it was not in the line. */
  remove(sessionId: string): boolean {
    const slot = this.#slotOf.get(sessionId);
    if (slot === undefined) return false;
    this.#slotOf.delete(sessionId);
    this.#ids[slot] = undefined;
    this.#add(slot, -1);
    return true;
  }

  /** 1-based position, or null when not in the line. */
  position(sessionId: string): number | null {
    const slot = this.#slotOf.get(sessionId);
    if (slot === undefined) return null;
    let count = 0;
    for (let i = slot + 1; i > 0; i -= i & -i) count += this.#tree[i]!;
    return count;
  }

  #add(slot: number, delta: number): void {
    for (let i = slot + 1; i < this.#tree.length; i += i & -i) this.#tree[i]! += delta;
  }

  /** Makes room: drops the empty slots (most of them, once the line has moved on) and doubles if still full. */
  #grow(): void {
    const live = this.#ids.filter((id): id is string => id !== undefined);
    const capacity = Math.max(16, 2 ** Math.ceil(Math.log2(live.length * 2 + 1)));
    this.#tree = new Array<number>(capacity + 1).fill(0);
    this.#ids = [];
    this.#slotOf.clear();
    for (const id of live) this.push(id);
  }
}

interface TitleQueue {
  line: Line;
  /** Busy times of the last fulfilments of queued sessions, ascending, at most SERVED_WINDOW + 1. */
  served: number[];
  rate: ServiceRate | null;
  /** Idle time so far (no session queued): busy time = wall time − idleMs. */
  idleMs: number;
  /** Since when the line is empty, or null while it is not. */
  idleSince: number | null;
  /** Busy time the title's first queue began. */
  anchorMs: number | null;
}

export class MemoryQueueTracker implements QueueTracker {
  readonly #titles = new Map<string, TitleQueue>();

  constructor(private readonly now: () => number = Date.now) {}

  onStateEvent(event: ClusterStateEvent): void {
    const { sessionId, titleId } = event.record;
    const at = Date.parse(event.at);
    if (event.type === 'cluster.queued') return this.#enter(titleId, sessionId, at);
    const title = this.#titles.get(titleId);
    if (!title?.line.remove(sessionId)) return;
    if (event.type === 'cluster.fulfilled') {
      title.served.push(at - title.idleMs);
      if (title.served.length > SERVED_WINDOW + 1) title.served.shift();
      title.rate = summarizeServed(title.served, title.anchorMs ?? title.served[0]!, observationLagMs(event.record));
    }
    if (title.line.size === 0) title.idleSince = at;
  }

  async standing(record: ClusterRecord): Promise<QueueStanding | null> {
    if (record.state !== 'QUEUED') return null;
    const title = this.#titles.get(record.titleId);
    const position = title?.line.position(record.sessionId) ?? null;
    if (!title || position === null) return null;
    const estimate = estimateWaitMs(position, title.rate, this.now() - title.idleMs, observationLagMs(record));
    return { queuePosition: position, estimatedWaitMs: estimate };
  }

  async settled(): Promise<void> {}

  async close(): Promise<void> {
    this.#titles.clear();
  }

  #enter(titleId: string, sessionId: string, at: number): void {
    let title = this.#titles.get(titleId);
    if (!title) {
      title = { line: new Line(), served: [], rate: null, idleMs: 0, idleSince: null, anchorMs: null };
      this.#titles.set(titleId, title);
    }
    if (title.line.has(sessionId)) return;
    if (title.line.size === 0 && title.idleSince !== null) {
      title.idleMs += Math.max(0, at - title.idleSince);
      title.idleSince = null;
    }
    title.anchorMs ??= at - title.idleMs;
    title.line.push(sessionId);
  }
}
