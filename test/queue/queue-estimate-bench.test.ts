/**
 * The queue-estimate bench scenario, tiny (bench/plan.ts TEST_PLAN: capacity 2, clusters living 0.5 s, 8 at
 * once then 4 a second for 2 s), in memory and on Redis: every queued session gets positions in the
 * emulator's FIFO order and is served in that order, and estimates come out of the right order of magnitude.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PLAN } from '../../bench/plan.js';
import { measureQueueEstimate } from '../../bench/queue-estimate.js';
import { sharedRedis } from '../support/redis.js';

describe('the queue-estimate scenario, tiny', () => {
  let redis: { url: string; dispose(): Promise<void> };
  beforeAll(async () => {
    redis = await sharedRedis();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it.each(['memory', 'redis'] as const)('keeps the FIFO order and estimates the waits (%s)', { timeout: 60_000 }, async (mode) => {
    const figures = await measureQueueEstimate({ ...TEST_PLAN.queueEstimate, redisEnv: mode === 'redis' ? { REDIS_URL: redis.url } : undefined });
    expect(figures.mode).toBe(mode);
    expect(figures.queued).toBeGreaterThanOrEqual(8);
    expect(figures.snapshots).toBeGreaterThan(5);
    expect(figures.violations).toEqual({ positionsNotConsecutive: 0, notInFifoOrder: 0, servedOutOfOrder: 0, positionWentUp: 0 });
    expect(figures.orderViolations).toBe(0);
    // Most queued sessions were given an estimate, of the right order of magnitude: waits of a few hundred ms
    // on a loaded machine are mostly timing noise, so the targets are held by the bench's full scenario only.
    expect(figures.sessions).toBeGreaterThanOrEqual(figures.queued / 2);
    expect(figures.medianRelativeError).toBeLessThan(1);
  });
});
