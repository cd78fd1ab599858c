/**
 * Watches queued sessions: one poll loop per session however many subscribers it has, and, with several
 * gateway instances, one across all of them (the session's owner, see poll-store.ts). Each loop posts the
 * session's request again at the advised interval with the most recent requester's credential, records the
 * answer and publishes every change, until the state is terminal, the watch time runs out, the session is
 * not this instance's any more, or the poller stops.
 *
 * The loop is the hot path of a busy gateway (thousands of posts a second), so it holds what it needs
 * between posts in its ticket (record, opened credential, revision) instead of reading it again, waits on
 * one plain timer, and asks the store once per post: the write that records an answer also reserves the
 * next post. A post that is not reserved yet is proven right before it goes out.
 */
import type { GsmsClient } from '../gsms/client.js';
import { GsmsError } from '../gsms/errors.js';
import type { ClusterAnswer } from '../gsms/wire.js';
import { isTerminal, type ClusterRecord } from './cluster-record.js';
import type { Logger } from './logger.js';
import { clampInterval, nextPollDelay, DEFAULT_POLL_TIMING, type PollTiming } from './poll-schedule.js';
import type { NextPost, PollStore, PollTicket } from './poll-store.js';
import { publishChange, type ClusterPubSub } from './pubsub.js';
import { RegistryUnavailableError } from './registry-unavailable.js';

/**
 * Timer slack: a loop's wait for its next post ends on a multiple of this many ms (never earlier than asked),
 * 5% of the interval and at most 50 ms. Loops due within the same few ms then wake together, on one shared
 * timer and in one turn of the event loop, instead of one wake-up each: a wake-up (epoll, timers, microtasks)
 * cost about as much as the rest of a poll's own work. Measured on bench/poll-path.ts, 4 instances on one
 * Redis: 20 ms of slack cut CPU per poll by 40% against none, and 50 ms by another 15% against 20 ms.
 */
const timerSlackMs = (intervalMs: number): number => Math.min(50, Math.floor(intervalMs / 20));

export interface ClusterPollerOptions {
  gsms: Pick<GsmsClient, 'requestCluster'>;
  store: PollStore;
  pubsub: ClusterPubSub;
  logger: Logger;
  /** How long a session may stay queued before watching it stops (docs/decisions.md, "Watch time"). */
  watchTimeoutMs: number;
  timing?: Partial<PollTiming>;
  random?: () => number;
  now?: () => number;
  /** After a loop failed on an unreachable store, how long before this instance tries the session again. */
  retryAfterFailureMs?: number;
  /** Hooks for metrics: called once per upstream poll. */
  observer?: {
    /** `lagMs`: how long after the planned time the poll went out. `ok`: whether GSMS answered. */
    onPoll?(info: { sessionId: string; lagMs: number; ok: boolean; changed: boolean }): void;
  };
  /** Wraps each upstream poll, e.g. in a trace span, so the upstream attempts become its children. */
  tracePoll?: <T>(sessionId: string, titleId: string, run: () => Promise<T>) => Promise<T>;
  /** Called after each recorded poll of a session that is still queued (queue position and estimate). */
  afterPoll?: (record: ClusterRecord) => Promise<void> | void;
}

/** One running loop: the wait it is in (if any), and its end. */
interface Loop {
  /** Ends the current wait: true when it ran its course, false when the poller is stopping. */
  resume: ((ranOut: boolean) => void) | undefined;
  /** The shared tick the loop waits for, or its own timer (a wait with no slack). */
  waitingOn: Set<Loop> | NodeJS.Timeout | undefined;
  done: Promise<void>;
}

/** The loops waiting for one tick of the timer slack, and the one timer that ends their wait. */
interface Tick {
  loops: Set<Loop>;
  timer: NodeJS.Timeout;
}

export class ClusterPoller {
  readonly #loops = new Map<string, Loop>();
  /** Waits ending on the same tick of the timer slack share one timer, keyed by the tick's time (epoch ms). */
  readonly #ticks = new Map<number, Tick>();
  /** Sessions being opened, so one instance never opens one twice at once. */
  readonly #opening = new Map<string, Promise<void>>();
  readonly #store: PollStore;
  readonly #timing: PollTiming;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #beat: NodeJS.Timeout | undefined;
  /** Cancels the posts in flight when the poller stops: one signal for every loop, not one per loop or post. */
  readonly #stopping = new AbortController();
  #beating = false;
  /** The heartbeat is failing (Redis away): said once per outage, not once per beat. */
  #beatFailing = false;
  #stopped = false;

  constructor(private readonly options: ClusterPollerOptions) {
    this.#store = options.store;
    this.#timing = { ...DEFAULT_POLL_TIMING, ...options.timing };
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    if (this.#store.tick) {
      this.#beat = setInterval(() => void this.#tick(), this.#store.heartbeatMs ?? 1_000).unref();
    }
  }

  /** Poll loops running now (on this instance). */
  get activeCount(): number {
    return this.#loops.size;
  }

  isWatching(sessionId: string): boolean {
    return this.#loops.has(sessionId);
  }

  /**
   * Makes sure a queued session is watched: starts a loop here if this instance may poll it (in memory:
   * always; shared: when it is the session's owner) and none runs yet. Anything but a queued session is a no-op.
   */
  watch(record: ClusterRecord): void {
    if (record.state === 'QUEUED') void this.#lead(record.sessionId);
  }

  /** Stops every loop and waits for them to end; no timer or request is left behind. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#beat);
    await Promise.all(this.#opening.values());
    this.#stopping.abort();
    const loops = [...this.#loops.values()];
    for (const loop of loops) this.#endWait(loop, false);
    for (const tick of this.#ticks.values()) clearTimeout(tick.timer);
    this.#ticks.clear();
    await Promise.all(loops.map((loop) => loop.done));
    // Let the other instances adopt this one's sessions at their next beat instead of after the heartbeat runs out.
    await this.#store.leave?.().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not hand sessions over on stop'));
  }

  /** Opens the session and, if this instance may poll it, starts its loop. */
  #lead(sessionId: string): Promise<void> {
    if (this.#stopped || this.#loops.has(sessionId)) return Promise.resolve();
    const pending = this.#opening.get(sessionId);
    if (pending) return pending;
    const attempt = this.#store
      .open(sessionId)
      .then((ticket) => {
        if (ticket && !this.#stopped && !this.#loops.has(sessionId)) this.#start(ticket);
      })
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error, sessionId }, 'could not open the session for polling');
        this.#retryLater(sessionId, error);
      })
      .finally(() => this.#opening.delete(sessionId));
    this.#opening.set(sessionId, attempt);
    return attempt;
  }

  /** The store was unreachable: the session may still be ours once it is back, so try again in a while. */
  #retryLater(sessionId: string, error: unknown): void {
    if (this.#stopped || !(error instanceof RegistryUnavailableError)) return;
    setTimeout(() => void this.#lead(sessionId), this.options.retryAfterFailureMs ?? 1_000).unref();
  }

  #start(ticket: PollTicket): void {
    const { logger } = this.options;
    const { sessionId } = ticket;
    const loop: Loop = { resume: undefined, waitingOn: undefined, done: Promise.resolve() };
    loop.done = this.#pollUntilSettled(ticket, loop)
      .catch((error: unknown) => {
        if (error instanceof RegistryUnavailableError) logger.warn({ sessionId, err: { message: error.message } }, 'poll loop paused: registry unreachable');
        else logger.error({ err: error, sessionId }, 'poll loop failed');
        this.#retryLater(sessionId, error);
      })
      .finally(() => {
        this.#loops.delete(sessionId);
      });
    this.#loops.set(sessionId, loop);
  }

  /** One heartbeat of a shared store; starts loops for the sessions it adopted from dead instances. */
  async #tick(): Promise<void> {
    if (this.#beating || this.#stopped) return;
    this.#beating = true;
    try {
      const adopted = (await this.#store.tick?.()) ?? [];
      if (this.#beatFailing) this.options.logger.info({}, 'heartbeat restored');
      this.#beatFailing = false;
      if (adopted.length > 0) this.options.logger.info({ sessions: adopted.length }, 'adopted the sessions of an instance that stopped');
      for (const sessionId of adopted) void this.#lead(sessionId);
    } catch (error) {
      if (!this.#beatFailing) this.options.logger.warn({ err: error }, 'heartbeat failed; other instances adopt our sessions if it stays down');
      this.#beatFailing = true;
    } finally {
      this.#beating = false;
    }
  }

  /** The next post after an answer (or the record's last one) at `answeredAt`, and who may post after it. */
  #plan(advisedMs: number, answeredAt: number, consecutiveErrors: number, notBefore: number): NextPost {
    const now = this.#now();
    const delay = nextPollDelay({ advisedMs, lastAnswerAt: answeredAt, now, consecutiveErrors, timing: this.#timing, random: this.#random });
    const postAt = Math.max(now + delay, notBefore);
    return { postAt, notBefore: postAt + clampInterval(advisedMs, this.#timing) };
  }

  async #pollUntilSettled(first: PollTicket, loop: Loop): Promise<void> {
    const { store, pubsub, gsms, logger, watchTimeoutMs, observer, tracePoll, afterPoll } = this.options;
    const { sessionId } = first;
    const { signal } = this.#stopping;
    let ticket = first;
    let next = this.#firstPost(ticket);
    let consecutiveErrors = 0;
    let watchStartedAt = '';
    let watchEndsAt = 0;
    while (!signal.aborted) {
      const { record } = ticket;
      // Parsed again only when a request restarted the watch: a string compare per poll, not a date parse.
      if (record.watchStartedAt !== watchStartedAt) {
        watchStartedAt = record.watchStartedAt;
        watchEndsAt = Date.parse(watchStartedAt) + watchTimeoutMs;
      }
      if (next.postAt >= watchEndsAt) {
        if (!(await this.#sleepUntil(watchEndsAt, loop))) return;
        if ((await store.endWatch(ticket)) === 'stale') {
          const fresh = await this.#reopen(sessionId);
          if (!fresh) return;
          ({ ticket, next } = fresh);
          continue;
        }
        logger.warn({ sessionId, watchTimeoutMs }, 'watch time ended with the session still queued');
        const message = `Session is still queued after ${watchTimeoutMs} ms; the gateway stopped watching it. Request it again to resume.`;
        pubsub.publish('cluster:status', sessionId, { type: 'watch-ended', code: 'WATCH_TIMEOUT', message });
        return;
      }
      if (!(await this.#sleepUntil(next.postAt, loop, timerSlackMs(record.pollIntervalMs)))) return;
      if (ticket.reservedAt !== next.postAt || (store.mayPost !== undefined && !store.mayPost(ticket))) {
        // Not reserved by the last write, or this instance's heartbeat may have lapsed since: prove the session
        // is still ours, and unchanged, right before posting.
        const reserved = await store.reserve(ticket, next);
        if (reserved === 'lost') {
          logger.info({ sessionId }, 'session polled by another instance now; leaving it to its owner');
          return;
        }
        if (reserved === 'stale') {
          // Another request changed the record meanwhile: plan again from what is stored.
          const fresh = await this.#reopen(sessionId);
          if (!fresh) return;
          ({ ticket, next } = fresh);
          continue;
        }
      }
      const postedAt = this.#now();
      const lagMs = Math.max(0, postedAt - next.postAt);
      let answer: ClusterAnswer;
      try {
        const call = { titleId: record.titleId, sessionId, abortIfQueued: false, authorization: ticket.credential, signal };
        answer = await (tracePoll ? tracePoll(sessionId, record.titleId, () => gsms.requestCluster(call)) : gsms.requestCluster(call));
      } catch (error) {
        if (signal.aborted) return;
        consecutiveErrors += 1;
        observer?.onPoll?.({ sessionId, lagMs, ok: false, changed: false });
        const details = error instanceof GsmsError ? { code: error.code, status: error.status, correlationId: error.correlationId } : { err: error };
        logger.warn({ sessionId, consecutiveErrors, ...details }, 'poll failed; backing off');
        next = this.#plan(record.pollIntervalMs, postedAt, consecutiveErrors, 0);
        continue;
      }
      consecutiveErrors = 0;
      next = this.#plan(answer.pollIntervalMs, this.#now(), 0, 0);
      const outcome = await this.#record(ticket, answer, next);
      if (!outcome) return;
      observer?.onPoll?.({ sessionId, lagMs, ok: true, changed: outcome.update.changed });
      if (outcome.update.changed) publishChange(pubsub, outcome.update.record);
      if (!outcome.ticket) return;
      ticket = outcome.ticket;
      if (afterPoll && ticket.record.state === 'QUEUED') {
        try {
          await afterPoll(ticket.record);
        } catch (error) {
          logger.debug({ err: error, sessionId }, 'after-poll hook failed');
        }
      }
    }
  }

  /** The first post of a ticket: an interval after the record's last answer, and never before `notBefore`. */
  #firstPost(ticket: PollTicket): NextPost {
    return this.#plan(ticket.record.pollIntervalMs, Date.parse(ticket.record.updatedAt), 0, ticket.notBefore);
  }

  /** Opens a session again after its record changed elsewhere, with the post that follows from it. */
  async #reopen(sessionId: string): Promise<{ ticket: PollTicket; next: NextPost } | null> {
    const ticket = await this.#store.open(sessionId);
    return ticket ? { ticket, next: this.#firstPost(ticket) } : null;
  }

  /** Records an answer; if another request changed the record meanwhile, applies it to the fresh one. */
  async #record(ticket: PollTicket, answer: ClusterAnswer, next: NextPost) {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await this.#store.recordPoll(ticket, answer, next);
      if (outcome !== 'stale') return outcome;
      const fresh = await this.#store.open(ticket.sessionId);
      if (!fresh) return null;
      ticket = fresh;
    }
    return null;
  }

  /**
   * Waits until `at` (epoch ms, rounded up to a multiple of `slackMs`), resolving false when the loop was
   * stopped meanwhile. Loops waiting for the same tick share its timer: one timer callback then wakes them
   * all, where a timer each cost an insert into and a removal from Node's timer lists per poll.
   */
  #sleepUntil(at: number, loop: Loop, slackMs = 0): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      loop.resume = resolve;
      if (slackMs <= 1) {
        loop.waitingOn = setTimeout(() => this.#endWait(loop, true), Math.max(0, at - this.#now()));
        return;
      }
      const tickAt = Math.ceil(at / slackMs) * slackMs;
      let tick = this.#ticks.get(tickAt);
      if (!tick) {
        const loops = new Set<Loop>();
        tick = { loops, timer: setTimeout(() => this.#endTick(tickAt, loops), Math.max(0, tickAt - this.#now())) };
        this.#ticks.set(tickAt, tick);
      }
      tick.loops.add(loop);
      loop.waitingOn = tick.loops;
    });
  }

  #endTick(tickAt: number, loops: Set<Loop>): void {
    this.#ticks.delete(tickAt);
    for (const loop of loops) this.#endWait(loop, true);
  }

  /** Ends `loop`'s wait, if it is in one. */
  #endWait(loop: Loop, ranOut: boolean): void {
    const { resume, waitingOn } = loop;
    if (!resume) return;
    loop.resume = undefined;
    loop.waitingOn = undefined;
    if (waitingOn instanceof Set) waitingOn.delete(loop);
    else clearTimeout(waitingOn);
    resume(ranOut);
  }
}
