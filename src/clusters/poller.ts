/**
 * Watches queued sessions: one poll loop per session however many subscribers it has. Each loop posts
 * the session's request again at the advised interval with the most recent requester's credential,
 * records the answer and publishes every change, until the state is terminal, the watch time runs out
 * or the poller stops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { GsmsClient } from '../gsms/client.js';
import { GsmsError } from '../gsms/errors.js';
import { isTerminal, type ClusterRecord } from './cluster-record.js';
import type { Logger } from './logger.js';
import { nextPollDelay, DEFAULT_POLL_TIMING, type PollTiming } from './poll-schedule.js';
import { publishChange, type ClusterPubSub } from './pubsub.js';
import type { ClusterRegistry } from './registry.js';

export interface ClusterPollerOptions {
  gsms: Pick<GsmsClient, 'requestCluster'>;
  registry: ClusterRegistry;
  pubsub: ClusterPubSub;
  logger: Logger;
  /** How long a session may stay queued before watching it stops (decisions.md: GSMS_WATCH_TIMEOUT_MS). */
  watchTimeoutMs: number;
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
  readonly #timing: PollTiming;
  readonly #random: () => number;
  readonly #now: () => number;
  #stopped = false;

  constructor(private readonly options: ClusterPollerOptions) {
    this.#timing = { ...DEFAULT_POLL_TIMING, ...options.timing };
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Poll loops running now. */
  get activeCount(): number {
    return this.#loops.size;
  }

  isWatching(sessionId: string): boolean {
    return this.#loops.has(sessionId);
  }

  /** Starts watching a queued session unless it is already watched; anything else is a no-op. */
  watch(record: ClusterRecord): void {
    if (this.#stopped || record.state !== 'QUEUED' || this.#loops.has(record.sessionId)) return;
    const controller = new AbortController();
    const done = this.#pollUntilSettled(record.sessionId, controller.signal)
      .catch((error: unknown) => this.options.logger.error({ err: error, sessionId: record.sessionId }, 'poll loop failed'))
      .finally(() => this.#loops.delete(record.sessionId));
    this.#loops.set(record.sessionId, { controller, done });
  }

  /** Stops every loop and waits for them to end; no timer or request is left behind. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const loops = [...this.#loops.values()];
    for (const loop of loops) loop.controller.abort();
    await Promise.all(loops.map((loop) => loop.done));
  }

  async #pollUntilSettled(sessionId: string, signal: AbortSignal): Promise<void> {
    const { registry, pubsub, gsms, logger, watchTimeoutMs } = this.options;
    let consecutiveErrors = 0;
    while (!signal.aborted) {
      const record = await registry.get(sessionId);
      if (!record || isTerminal(record.state)) return;
      const now = this.#now();
      const watchEndsAt = Date.parse(record.watchStartedAt) + watchTimeoutMs;
      const delay = nextPollDelay({
        advisedMs: record.pollIntervalMs,
        lastAnswerAt: Date.parse(record.updatedAt),
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
      const lagMs = Math.max(0, this.#now() - dueAt);

      const credential = await registry.pollCredential(sessionId);
      if (!credential) return;
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
