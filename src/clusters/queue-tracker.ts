/**
 * Where a queued session stands in its title's queue, and how long it will likely wait: a fact this
 * deployment observes, since GSMS answers only `Queued` and publishes no queue.
 *
 * Order. Per title, the queued sessions in the order they entered the queue (a first request's `requestedAt`;
 * a session that re-enters the queue after a fulfilment goes to the back, at the time of that change), ties
 * within one millisecond broken by the order the changes were stored. That is the order GSMS serves them:
 * first come, first served. Position 1 is the next session to be served.
 *
 * Estimate. Wait ≈ position × the mean time between two fulfilments of that title's queued sessions, measured
 * over the last SERVED_WINDOW intervals (see summarizeServed). Null until MIN_EVIDENCE fulfilments were seen.
 *
 * Time is "busy time": the clock stops while the title has no queued session, so an idle evening between two
 * busy periods does not read as a slow queue.
 */
import type { ClusterRecord } from './cluster-record.js';
import type { ClusterStateEvent } from './state-events.js';

export interface QueueStanding {
  /** 1 for the next session to be served among this deployment's queued sessions of the title. */
  queuePosition: number;
  /** Likely wait from now, in ms; null until the title has shown enough fulfilments. */
  estimatedWaitMs: number | null;
}

export interface QueueTracker {
  /** The registries' `onStateEvent` listener: called after each stored change, in order. */
  onStateEvent(event: ClusterStateEvent): void;
  /**
   * Where a queued session stands now; null when it is not queued or not in the order. `polled`: the session
   * was just polled (the poll path): Redis refreshes its liveness there (see queue-redis.ts).
   */
  standing(record: ClusterRecord, options?: { polled?: boolean }): Promise<QueueStanding | null>;
  /** Resolves once every event heard so far is applied (Redis applies them asynchronously). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Intervals between fulfilments the rate is measured over. Taking a whole number of intervals between two
 * fulfilments (not "fulfilments in the last N seconds") keeps bursts from biasing it: when clusters end in
 * batches (c at a time, every T), any run of k·c intervals spans exactly k·T, wherever it starts; 32 is a
 * whole number of batches for capacities 1, 2, 4, 8, 16, 32, and within 1/32 of one for any other.
 */
export const SERVED_WINDOW = 32;
/** Fulfilments of a title's queued sessions seen before an estimate is given. */
export const MIN_EVIDENCE = 4;

/** What the estimate needs, kept per title and updated on each fulfilment (in Redis: in the meta hash). */
export interface ServiceRate {
  /** Fulfilments seen in the window (at most SERVED_WINDOW + 1). */
  evidence: number;
  /** Intervals the span covers. */
  intervals: number;
  /** Busy time the intervals cover, ms. */
  spanMs: number;
  /** Busy time of the last fulfilment. */
  lastServedMs: number;
  /** Longest interval in the window: a pause longer than it means the queue has slowed down. */
  maxGapMs: number;
}

/**
 * The rate from the busy times of the last fulfilments (ascending) and the busy time the title's first queue
 * began (`anchorMs`). With more than SERVED_WINDOW of them: SERVED_WINDOW intervals between the oldest and
 * the newest. Before that: every fulfilment counted since the queue began (the first cluster's end is one
 * interval after the queue formed, not zero).
 *
 * `lagMs`: how late the newest fulfilment was seen, on average (half its poll interval: the gateway notices at
 * the session's next poll). Between two seen fulfilments the lags cancel; from the anchor, a request time seen
 * at once, they do not, and early estimates would run long by it: the anchored span leaves it out.
 */
export function summarizeServed(servedMs: readonly number[], anchorMs: number, lagMs = 0): ServiceRate | null {
  const count = servedMs.length;
  if (count === 0) return null;
  const full = count > SERVED_WINDOW;
  const start = full ? servedMs[0]! : Math.min(anchorMs, servedMs[0]!);
  let maxGapMs = full ? 0 : servedMs[0]! - start;
  for (let i = 1; i < count; i += 1) maxGapMs = Math.max(maxGapMs, servedMs[i]! - servedMs[i - 1]!);
  const lastServedMs = servedMs[count - 1]!;
  const spanMs = full ? lastServedMs - start : Math.max(lastServedMs - start - lagMs, (lastServedMs - start) / 2);
  return { evidence: count, intervals: full ? count - 1 : count, spanMs, lastServedMs, maxGapMs };
}

/**
 * position × mean interval, plus `lagMs`: half the session's own poll interval, as its subscribers hear of
 * its fulfilment at its next poll. A pause since the last fulfilment longer than any interval in the window
 * stretches the span by the excess, so a stalled queue's estimates grow instead of promising the old pace.
 */
export function estimateWaitMs(position: number, rate: ServiceRate | null, nowBusyMs: number, lagMs = 0): number | null {
  if (!rate || rate.evidence < MIN_EVIDENCE || rate.intervals <= 0) return null;
  const stall = Math.max(0, nowBusyMs - rate.lastServedMs - rate.maxGapMs);
  const spanMs = Math.max(1, rate.spanMs + stall);
  // GraphQL's Int is 32-bit: a stalled queue's estimate must not overflow the field (24.8 days is "long").
  return Math.min(MAX_INT, Math.round((position * spanMs) / rate.intervals + lagMs));
}

const MAX_INT = 2_147_483_647;

/** How late, on average, the gateway sees a session's change: at its next poll. */
export const observationLagMs = (record: { pollIntervalMs: number }): number => Math.max(0, record.pollIntervalMs) / 2;

/** Whether a new standing is worth an event: a new position, an estimate appearing, or moving by 10% and 1 s. */
export function standingChanged(previous: QueueStanding | undefined, next: QueueStanding): boolean {
  if (!previous || previous.queuePosition !== next.queuePosition) return true;
  const [a, b] = [previous.estimatedWaitMs, next.estimatedWaitMs];
  if (a === null || b === null) return a !== b;
  return Math.abs(a - b) >= Math.max(1_000, 0.1 * a);
}
