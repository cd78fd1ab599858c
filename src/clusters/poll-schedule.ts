/**
 * When the poller asks GSMS again. Pure functions, so the timing rules are tested without timers.
 * See docs/decisions.md ("Poll timing"): the advised interval is clamped to 100 ms – 60 s, and jitter only
 * lengthens it (up to +4%), so the poller never asks before the advised time.
 */
export interface PollTiming {
  minIntervalMs: number;
  maxIntervalMs: number;
  /** Largest share added to the interval at random, e.g. 0.1. */
  jitterRatio: number;
  /** Ceiling for the back-off after upstream errors. */
  maxErrorBackoffMs: number;
}

export const DEFAULT_POLL_TIMING: PollTiming = {
  minIntervalMs: 100,
  maxIntervalMs: 60_000,
  // Enough to pull apart sessions that queued in the same instant (up to 40 ms a second of interval, a random
  // walk that widens with every poll); small, because every millisecond of it is a later look at GSMS.
  jitterRatio: 0.04,
  maxErrorBackoffMs: 30_000,
};

export function clampInterval(advisedMs: number, timing: PollTiming): number {
  return Math.min(Math.max(advisedMs, timing.minIntervalMs), timing.maxIntervalMs);
}

/**
 * Milliseconds to wait before the next post: the advised interval (clamped, jittered upwards) counted
 * from the last answer, doubled for each consecutive upstream error.
 */
export function nextPollDelay(input: {
  advisedMs: number;
  lastAnswerAt: number;
  now: number;
  consecutiveErrors: number;
  timing: PollTiming;
  random: () => number;
}): number {
  const { timing } = input;
  const base = clampInterval(input.advisedMs, timing);
  const backoff = input.consecutiveErrors === 0 ? base : Math.min(base * 2 ** input.consecutiveErrors, timing.maxErrorBackoffMs);
  const jittered = Math.max(base, backoff) * (1 + input.random() * timing.jitterRatio);
  const due = input.consecutiveErrors === 0 ? input.lastAnswerAt + jittered : input.now + jittered;
  return Math.max(0, Math.round(due - input.now));
}
