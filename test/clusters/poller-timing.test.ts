/**
 * The poller's waits, on a fake clock: never earlier than the advised interval after the last answer, and
 * ending on the timer-slack tick (5% of the interval, at most 50 ms) so that loops due together wake together
 * on one timer.
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterAnswer } from '../../src/gsms/wire.js';
import { MemoryClusterRegistry } from '../../src/clusters/memory-registry.js';
import { ClusterPoller } from '../../src/clusters/poller.js';
import { createClusterPubSub } from '../../src/clusters/pubsub.js';

const queued = (pollIntervalMs: number): ClusterAnswer => ({
  state: 'QUEUED',
  pollIntervalMs,
  hostName: null,
  region: null,
  portMappings: [],
  secureContext: null,
  correlationId: null,
});

/** Requests `sessions` at the fake time `startAt`, polls them for `ms`, and returns each session's post times. */
async function postTimes(options: { intervalMs: number; startAt: number; sessions: number; ms: number; answerDelayMs?: number }) {
  vi.useFakeTimers({ now: options.startAt });
  const posts = new Map<string, number[]>();
  const registry = new MemoryClusterRegistry();
  const poller = new ClusterPoller({
    gsms: {
      async requestCluster({ sessionId }) {
        posts.get(sessionId)!.push(Date.now());
        // The answer comes back a little later, at an odd moment: the next wait counts from it.
        if (options.answerDelayMs) await new Promise((resolve) => setTimeout(resolve, options.answerDelayMs));
        return queued(options.intervalMs);
      },
    },
    store: registry,
    pubsub: createClusterPubSub(),
    logger: pino({ level: 'silent' }),
    watchTimeoutMs: 3_600_000,
    random: () => 0,
  });
  for (let i = 0; i < options.sessions; i += 1) {
    const sessionId = `session-${i}`;
    posts.set(sessionId, []);
    const { record } = await registry.recordRequest({ sessionId, titleId: '1', answer: queued(options.intervalMs), requester: 'p1', credential: 'XBL3.0 x=1;t' });
    poller.watch(record);
    // Requests arrive at odd moments, a few ms apart.
    await vi.advanceTimersByTimeAsync(7);
  }
  await vi.advanceTimersByTimeAsync(options.ms);
  await poller.stop();
  await registry.close();
  return [...posts.values()];
}

describe('poll waits', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('end on a 50 ms tick for a 1 s interval, never before the interval after the last answer', async () => {
    const sessions = await postTimes({ intervalMs: 1_000, startAt: 1_000_003, sessions: 5, ms: 5_000, answerDelayMs: 3 });
    for (const times of sessions) {
      expect(times.length).toBeGreaterThanOrEqual(4);
      for (const at of times) expect(at % 50).toBe(0);
      // Each post is the first tick at or after the previous answer (post + 3 ms) plus the interval.
      for (let i = 1; i < times.length; i += 1) expect(times[i]).toBe(Math.ceil((times[i - 1]! + 3 + 1_000) / 50) * 50);
    }
    // Five sessions requested 7 ms apart share ticks: fewer distinct post times than posts.
    const distinct = new Set(sessions.flatMap((times) => times.slice(1)));
    expect(distinct.size).toBeLessThan(sessions.reduce((n, times) => n + times.length - 1, 0));
  });

  it('keep the tick at 5% of a short interval (5 ms at 100 ms)', async () => {
    const [times] = await postTimes({ intervalMs: 100, startAt: 2_000_001, sessions: 1, ms: 1_000, answerDelayMs: 1 });
    expect(times!.length).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < times!.length; i += 1) {
      expect(times![i]! % 5).toBe(0);
      expect(times![i]! - times![i - 1]!).toBeGreaterThanOrEqual(101);
      expect(times![i]! - times![i - 1]!).toBeLessThanOrEqual(105);
    }
  });

  it('wake every loop due on one tick from one timer, and leave no timer behind on stop', async () => {
    vi.useFakeTimers({ now: 3_000_001 });
    const registry = new MemoryClusterRegistry();
    const registryTimers = vi.getTimerCount();
    const poller = new ClusterPoller({
      gsms: { requestCluster: async () => queued(1_000) },
      store: registry,
      pubsub: createClusterPubSub(),
      logger: pino({ level: 'silent' }),
      watchTimeoutMs: 3_600_000,
      random: () => 0,
    });
    // Ten sessions requested within one 50 ms tick: their first posts are all due on the same tick.
    for (let i = 0; i < 10; i += 1) {
      const { record } = await registry.recordRequest({ sessionId: `session-${i}`, titleId: '1', answer: queued(1_000), requester: 'p1', credential: 'XBL3.0 x=1;t' });
      poller.watch(record);
      await vi.advanceTimersByTimeAsync(3);
    }
    expect(poller.activeCount).toBe(10);
    expect(vi.getTimerCount() - registryTimers).toBe(1);
    await poller.stop();
    expect(poller.activeCount).toBe(0);
    expect(vi.getTimerCount() - registryTimers).toBe(0);
    await registry.close();
  });
});
