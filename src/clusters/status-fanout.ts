/**
 * One pub/sub listener per watched session, shared by all of its `clusterStatus` subscribers.
 *
 * yoga's `pubsub.subscribe` gives each caller its own Repeater and event-target listener (and its own
 * topic string), and a Repeater per subscriber on top of that doubled it again: about 7 KB per open
 * subscription, 70 MB for a fleet of 10,000. Here a session's topic is listened to once, and each
 * subscriber is a small queue (`ClusterStatusStream`). A hand-written async iterator rather than a
 * Repeater, because the Repeater's per-instance closures and promises were most of that cost.
 */
import { isTerminal, type ClusterRecord } from './cluster-record.js';
import type { ClusterEvent, ClusterPubSub } from './pubsub.js';

type Done = IteratorReturnResult<undefined>;
const DONE: Done = Object.freeze({ done: true, value: undefined });

/**
 * One subscriber's view of a session: the state it started from, then the changes newer than it (by
 * version), ending after a terminal state or the end of watching. Events that arrive before `start`
 * (between listening and reading the registry) are held and filtered once the starting version is known.
 * Kept small on purpose, as there is one per open subscription: the session it leaves through instead of a
 * closure per stream, and a queue only while events wait to be read.
 */
export class ClusterStatusStream implements AsyncIterableIterator<ClusterEvent> {
  /** The version last passed on; -1 until `start`. */
  #version = -1;
  #started = false;
  /** No more events are accepted; the iterator ends once `#queue` is drained. */
  #ending = false;
  #queue: ClusterEvent[] | null = null;
  #waiting: ((result: IteratorResult<ClusterEvent, undefined>) => void) | null = null;

  constructor(private readonly session: FollowedSession) {}

  /** Starts from the registry's record; replays what arrived while it was being read. */
  start(current: ClusterRecord): void {
    if (this.#ending) return;
    const early = this.#queue;
    this.#queue = null;
    this.#started = true;
    this.#version = current.version;
    this.#enqueue({ type: 'status', record: current });
    if (isTerminal(current.state)) return this.#end();
    if (early) for (const event of early) this.deliver(event);
  }

  /** Called by the session's shared listener for every event on its topic. */
  deliver(event: ClusterEvent): void {
    if (this.#ending) return;
    if (!this.#started) {
      (this.#queue ??= []).push(event);
      return;
    }
    if (event.type === 'watch-ended') {
      this.#enqueue(event);
      return this.#end();
    }
    // A standing (queue position) event keeps its record's version: let it through at the current version.
    if (event.record.version < this.#version || (event.record.version === this.#version && !event.standing)) return;
    this.#version = event.record.version;
    this.#enqueue(event);
    if (isTerminal(event.record.state)) this.#end();
  }

  /** Ends the stream after what is already queued (the session's listener went away). */
  close(): void {
    this.#end();
  }

  next(): Promise<IteratorResult<ClusterEvent, undefined>> {
    const queue = this.#started ? this.#queue : null;
    const event = queue?.shift();
    // An emptied array keeps its backing store (~150 bytes): let it go while waiting.
    if (queue?.length === 0) this.#queue = null;
    if (event) return Promise.resolve({ done: false, value: event });
    if (this.#ending) return Promise.resolve(DONE);
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  /** The subscriber left (client unsubscribed or the socket closed). */
  return(): Promise<Done> {
    this.#queue = null;
    this.#end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #enqueue(event: ClusterEvent): void {
    const waiting = this.#waiting;
    if (!waiting) {
      (this.#queue ??= []).push(event);
      return;
    }
    this.#waiting = null;
    waiting({ done: false, value: event });
  }

  #end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.session.leave(this);
    if (!this.#queue?.length && this.#waiting) {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting(DONE);
    }
  }
}

/** One session's shared listener and its subscribers. */
interface FollowedSession {
  subscribers: Set<ClusterStatusStream>;
  source: AsyncIterator<ClusterEvent>;
  /** A subscriber ended: the last one out stops listening to the topic. */
  leave(stream: ClusterStatusStream): void;
}

/** The sessions being listened to on one pub/sub, and who listens to each. */
class StatusFanout {
  readonly #sessions = new Map<string, FollowedSession>();

  constructor(private readonly pubsub: ClusterPubSub) {}

  /**
   * A new subscriber of a session, listening from now on: the topic's listener is attached before this
   * returns, so a change published while the caller reads the registry is not missed.
   */
  follow(sessionId: string): ClusterStatusStream {
    const session = this.#sessions.get(sessionId) ?? this.#listen(sessionId);
    const stream = new ClusterStatusStream(session);
    session.subscribers.add(stream);
    return stream;
  }

  /** Sessions listened to now (for tests). */
  get size(): number {
    return this.#sessions.size;
  }

  #listen(sessionId: string): FollowedSession {
    const sessions = this.#sessions;
    const session: FollowedSession = {
      subscribers: new Set(),
      source: this.pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator](),
      leave(stream) {
        session.subscribers.delete(stream);
        if (session.subscribers.size > 0 || sessions.get(sessionId) !== session) return;
        sessions.delete(sessionId);
        void session.source.return?.();
      },
    };
    sessions.set(sessionId, session);
    void this.#pump(sessionId, session);
    return session;
  }

  async #pump(sessionId: string, session: FollowedSession): Promise<void> {
    try {
      // The first next() runs synchronously inside follow(): that is what attaches the listener.
      for (let result = await session.source.next(); !result.done; result = await session.source.next()) {
        for (const subscriber of session.subscribers) subscriber.deliver(result.value);
      }
    } catch {
      // A pub/sub that fails (e.g. its connection is gone for good) ends its subscribers' streams.
    } finally {
      if (this.#sessions.get(sessionId) === session) this.#sessions.delete(sessionId);
      for (const subscriber of session.subscribers) subscriber.close();
    }
  }
}

const fanouts = new WeakMap<ClusterPubSub, StatusFanout>();

/** The shared listeners of one pub/sub (one per gateway's services). */
export function statusFanout(pubsub: ClusterPubSub): StatusFanout {
  let fanout = fanouts.get(pubsub);
  if (!fanout) fanouts.set(pubsub, (fanout = new StatusFanout(pubsub)));
  return fanout;
}
