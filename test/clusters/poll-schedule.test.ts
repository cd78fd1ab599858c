import { describe, expect, it } from 'vitest';
import { DEFAULT_POLL_TIMING, nextPollDelay } from '../../src/clusters/poll-schedule.js';

const base = { lastAnswerAt: 10_000, now: 10_000, consecutiveErrors: 0, timing: DEFAULT_POLL_TIMING };

describe('poll timing', () => {
  it('waits the advised interval, jitter only lengthening it (at most +4%)', () => {
    expect(nextPollDelay({ ...base, advisedMs: 1000, random: () => 0 })).toBe(1000);
    expect(nextPollDelay({ ...base, advisedMs: 1000, random: () => 0.999 })).toBe(1040);
  });

  it('clamps the advised interval to 100 ms – 60 s', () => {
    expect(nextPollDelay({ ...base, advisedMs: 0, random: () => 0 })).toBe(100);
    expect(nextPollDelay({ ...base, advisedMs: 3_600_000, random: () => 0 })).toBe(60_000);
  });

  it('counts from the last answer, so a takeover never posts early', () => {
    expect(nextPollDelay({ ...base, now: 10_400, advisedMs: 1000, random: () => 0 })).toBe(600);
    expect(nextPollDelay({ ...base, now: 12_000, advisedMs: 1000, random: () => 0 })).toBe(0);
  });

  it('backs off exponentially after upstream errors, up to its ceiling', () => {
    expect(nextPollDelay({ ...base, advisedMs: 1000, consecutiveErrors: 1, random: () => 0 })).toBe(2000);
    expect(nextPollDelay({ ...base, advisedMs: 1000, consecutiveErrors: 3, random: () => 0 })).toBe(8000);
    expect(nextPollDelay({ ...base, advisedMs: 1000, consecutiveErrors: 20, random: () => 0 })).toBe(30_000);
  });
});
