/**
 * Watches queued sessions: one poll loop per session however many subscribers it has, and, with several
 * gateway instances, one across all of them. Each loop posts the session's request again at the advised
 * interval with the most recent requester's credential, records the answer and publishes every change,
 * until the state is terminal, the watch time runs out or the poller stops.
 *
 * Across instances (shared leases, see poll-lease.ts) a loop runs only while its instance holds the
 * session's lease: renewed every third of the lease time, and proven right before each post. The next post
 * is due an interval after the later of the last answer and the last post on any instance, so a takeover
 * never posts early. Every instance also scans the registry for queued sessions nobody polls, so a session
 * whose holder died is taken over within the lease time plus one scan, even with no subscriber anywhere.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { GsmsClient } from '../gsms/client.js';
import { GsmsError } from '../gsms/errors.js';
import { isTerminal } from './cluster-record.js';
import type { ClusterRecord } from './cluster-record.js';
import type { Logger } from './logger.js';
import { localPollLeases, type PollLeases } from './poll-lease.js';
import { nextPollDelay, DEFAULT_POLL_TIMING, type PollTiming } from './poll-schedule.js';
import { publishChange, type ClusterPubSub } from './pubsub.js';
import type { ClusterRegistry } from './registry.js';
import { RegistryUnavailableError } from './registry-unavailable.js';

export interface ClusterPollerOptions {
  gsms: Pick<GsmsClient, 'requestCluster'>;
  registry: ClusterRegistry;
  pubsub: ClusterPubSub;
  logger: Logger;
  /** How long a session may stay queued before watching it stops (decisions.md: GSMS_WATCH_TIMEOUT_MS). */
  watchTimeoutMs: number;
  /** Who may poll a session; default: this process alone (in-memory mode). */
  leases?: PollLeases;
  /** How often shared-lease instances look for queued sessions nobody polls. Default: a fifth of the lease, at most 1 s. */
  scanIntervalMs?: number;
  timing?: Partial<PollTiming>;
  random?: () => number;
  now?: () => number;
  /** Hooks for metrics: called once per upstream poll. */
  observer?: {
    /** `lagMs`: how long after the advised time the poll went out. `ok`: whether GSMS answered. */
    onPoll?(info: { sessionId: string; lagMs: number; ok: boolean; changed: boolean }): void;
  };
}

export class ClusterPoller {
  readonly #loops = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Sessions whose lease is being asked for, so one instance never asks twice at once. */
  readonly #acquiring = new Map<string, Promise<void>>();
  readonly #leases: PollLeases;
  readonly #timing: PollTiming;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #scanner: NodeJS.Timeout | undefined;
  #scanning = false;
  #stopped = false;

  constructor(private readonly options: ClusterPollerOptions) {
    this.#leases = options.leases ?? localPollLeases;
    this.#timing = { ...DEFAULT_POLL_TIMING, ...options.timing };
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    if (this.#leases.shared) {
      const every = options.scanIntervalMs ?? Math.min(1_000, this.#leases.leaseMs / 5);
      this.#scanner = setInterval(() => void this.#scan(), every).unref();
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
   * Makes sure a queued session is watched: starts a loop here unless one runs already, here or (holding
   * the lease) on another instance. Anything but a queued session is a no-op.
   */
  watch(record: ClusterRecord): void {
    if (record.state === 'QUEUED') void this.#lead(record.sessionId);
  }

  /** Stops every loop and waits for them to end; no timer or request is left behind. Leases are released. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#scanner);
    await Promise.all(this.#acquiring.values());
    const loops = [...this.#loops.values()];
    for (const loop of loops) loop.controller.abort();
    await Promise.all(loops.map((loop) => loop.done));
  }

  /** Takes the session's lease and, if granted, starts its loop. */
  #lead(sessionId: string): Promise<void> {
    if (this.#stopped || this.#loops.has(sessionId)) return Promise.resolve();
    const pending = this.#acquiring.get(sessionId);
    if (pending) return pending;
    const attempt = this.#leases
      .acquire(sessionId)
      .then((granted) => {
        if (granted && !this.#stopped && !this.#loops.has(sessionId)) this.#start(sessionId);
        else if (granted) return this.#leases.release(sessionId);
      })
      .catch((error: unknown) => this.options.logger.warn({ err: error, sessionId }, 'could not take the poll lease'))
      .finally(() => this.#acquiring.delete(sessionId));
    this.#acquiring.set(sessionId, attempt);
    return attempt;
  }

  #start(sessionId: string): void {
    const { logger } = this.options;
    const controller = new AbortController();
    const renewal = this.#leases.shared ? setInterval(() => void this.#renew(sessionId, controller), this.#leases.leaseMs / 3) : undefined;
    const done = this.#pollUntilSettled(sessionId, controller.signal)
      .catch((error: unknown) => {
        // Redis away: the lease lapses and this or another instance's scan picks the session up once it is back.
        if (error instanceof RegistryUnavailableError) logger.warn({ sessionId, err: { message: error.message } }, 'poll loop paused: registry unreachable');
        else logger.error({ err: error, sessionId }, 'poll loop failed');
      })
      .finally(async () => {
        clearInterval(renewal);
        this.#loops.delete(sessionId);
        // If this fails (Redis away), the lease lapses by itself within its time.
        await this.#leases.release(sessionId).catch(() => {});
      });
    this.#loops.set(sessionId, { controller, done });
  }

  async #renew(sessionId: string, controller: AbortController): Promise<void> {
    try {
      if (await this.#leases.renew(sessionId)) return;
      this.options.logger.warn({ sessionId }, 'poll lease lost to another instance; stopping this poller');
      controller.abort();
    } catch (error) {
      // Redis unreachable: keep polling only as long as each post can still prove the lease (claimPost).
      this.options.logger.debug({ err: error, sessionId }, 'poll lease renewal failed');
    }
  }

  /** Finds queued sessions no loop here watches and tries to lead them (their holder may have died). */
  async #scan(): Promise<void> {
    if (this.#scanning || this.#stopped) return;
    this.#scanning = true;
    try {
      const sessionIds = await this.options.registry.watchedSince(this.#now() - this.options.watchTimeoutMs);
      await Promise.all(sessionIds.map((sessionId) => this.#lead(sessionId)));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'scan for unwatched sessions failed');
    } finally {
      this.#scanning = false;
    }
  }

  async #pollUntilSettled(sessionId: string, signal: AbortSignal): Promise<void> {
    const { registry, pubsub, gsms, logger, watchTimeoutMs } = this.options;
    let consecutiveErrors = 0;
    while (!signal.aborted) {
      const record = await registry.get(sessionId);
      if (!record || isTerminal(record.state)) return;
      const lastPostAt = await this.#leases.lastPostAt(sessionId);
      const now = this.#now();
      const watchEndsAt = Date.parse(record.watchStartedAt) + watchTimeoutMs;
      const delay = nextPollDelay({
        advisedMs: record.pollIntervalMs,
        lastAnswerAt: Math.max(Date.parse(record.updatedAt), lastPostAt ?? 0),
        now,
        consecutiveErrors,
        timing: this.#timing,
        random: this.#random,
      });
      if (now + delay >= watchEndsAt) {
        if (!(await this.#wait(Math.max(0, watchEndsAt - now), signal))) return;
        logger.warn({ sessionId, watchTimeoutMs }, 'watch time ended with the session still queued');
        const message = `Session is still queued after ${watchTimeoutMs} ms; the gateway stopped watching it. Request it again to resume.`;
        pubsub.publish('cluster:status', sessionId, { type: 'watch-ended', code: 'WATCH_TIMEOUT', message });
        return;
      }
      const dueAt = now + delay;
      if (!(await this.#wait(delay, signal))) return;
      // Another instance's request may have changed the record meanwhile: start over from what is stored.
      const latest = await registry.get(sessionId);
      if (!latest || latest.updatedAt !== record.updatedAt || latest.pollIntervalMs !== record.pollIntervalMs) {
        if (latest && !isTerminal(latest.state)) continue;
        return;
      }
      const credential = await registry.pollCredential(sessionId);
      if (!credential) return;
      const postAt = this.#now();
      if (!(await this.#leases.claimPost(sessionId, postAt))) {
        logger.info({ sessionId }, 'poll lease held elsewhere; leaving the session to its holder');
        return;
      }
      const lagMs = Math.max(0, postAt - dueAt);
      try {
        const answer = await gsms.requestCluster({
          titleId: record.titleId,
          sessionId,
          abortIfQueued: false,
          authorization: credential,
          signal,
        });
        consecutiveErrors = 0;
        const update = await registry.recordPoll(sessionId, answer);
        if (update?.changed) publishChange(pubsub, update.record);
        this.options.observer?.onPoll?.({ sessionId, lagMs, ok: true, changed: update?.changed ?? false });
      } catch (error) {
        if (signal.aborted) return;
        consecutiveErrors += 1;
        this.options.observer?.onPoll?.({ sessionId, lagMs, ok: false, changed: false });
        const details = error instanceof GsmsError ? { code: error.code, status: error.status, correlationId: error.correlationId } : { err: error };
        logger.warn({ sessionId, consecutiveErrors, ...details }, 'poll failed; backing off');
      }
    }
  }

  /** Waits, returning false when the poller was stopped meanwhile. */
  async #wait(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }
}
