/**
 * Runs the benchmark's whole code path (children, autocannon, graphql-ws fan-out, results shape) on tiny
 * numbers, so the suite cannot rot between full runs. No figure is asserted beyond "it is a number and
 * nothing failed": a loaded CI machine must not fail this test.
 */
import { describe, expect, it } from 'vitest';
import { TEST_PLAN } from '../../bench/plan.js';
import { GAP_SLACK_MS, formatTable } from '../../bench/report.js';
import { runBench } from '../../bench/run.js';

describe('npm run bench (on tiny numbers)', () => {
  it('measures the four mutation configurations, the fan-out at each factor and the poll path, and reports them in the results shape', async () => {
    const results = await runBench(TEST_PLAN);

    expect(results.mode).toBe('test');
    expect(results.machine.cores).toBeGreaterThan(0);
    for (const name of ['direct', 'floor', 'peer', 'gateway'] as const) {
      const figures = results.mutation[name];
      expect(figures.errors, `${name} errors`).toBe(0);
      expect(figures.rps.median, `${name} req/s`).toBeGreaterThan(0);
      expect(figures.rps.min).toBeLessThanOrEqual(figures.rps.max);
      expect(Number.isFinite(figures.p99Ms)).toBe(true);
    }
    for (const ratio of Object.values(results.mutation.ratios)) expect(Number.isFinite(ratio)).toBe(true);

    const { fanout } = results;
    expect(fanout.sessions).toBe(TEST_PLAN.fanout.sessions);
    expect(fanout.subscriptions).toBe(TEST_PLAN.fanout.sessions * TEST_PLAN.fanout.subscribersPerSession);
    expect(fanout.errors).toBe(0);
    expect(Number.isFinite(fanout.bytesPerSubscription.rss)).toBe(true);
    expect(Number.isFinite(fanout.bytesPerSubscription.heap)).toBe(true);
    // One poll loop per session, whatever the subscriber count (one per subscriber would read about 3 here),
    // and never two posts of a session within an interval. The window's edges make the ratio approximate.
    expect(fanout.pollsPerSessionPerInterval).toBeGreaterThan(0);
    expect(fanout.pollsPerSessionPerInterval).toBeLessThan(1.5);
    expect(fanout.polls.minGapMs ?? TEST_PLAN.fanout.pollIntervalMs).toBeGreaterThanOrEqual(TEST_PLAN.fanout.pollIntervalMs - GAP_SLACK_MS);
    expect(Number.isFinite(fanout.spreadMs.p99)).toBe(true);

    expect(results.scaling.map((s) => s.factor)).toEqual(TEST_PLAN.fanout.factors);
    expect(results.scaling.every((s) => s.errors === 0)).toBe(true);
    expect(formatTable(results)).toContain('gateway/floor');

    // The poll path: every configuration measured, in the spec's shape.
    const { pollPath } = results;
    expect(pollPath.sessions).toBe(TEST_PLAN.pollPath.sessions);
    expect(pollPath.redisClusterError).toBeUndefined();
    for (const entry of [pollPath.bare, pollPath.memory, ...pollPath.redis, pollPath.redisCluster!]) {
      expect(entry.polls).toBeGreaterThan(0);
      expect(entry.cpuMicrosPerPoll).toBeGreaterThan(0);
      expect(entry.pollsPerSessionPerInterval).toBeGreaterThan(0);
      expect(entry.pollsPerSessionPerInterval).toBeLessThan(1.5);
    }
    expect(pollPath.redis.map((entry) => entry.instances)).toEqual(TEST_PLAN.pollPath.redisInstances);
    for (const entry of [...pollPath.redis, pollPath.redisCluster!]) {
      expect(entry.redisRoundTripsPerPoll).toBeGreaterThan(0);
      expect(entry.redisCommandsPerPoll).toBeGreaterThan(0);
      expect(Number.isFinite(entry.redisCpuMicrosPerPoll)).toBe(true);
    }
    expect(pollPath.redisCluster).toMatchObject({ masters: 3, instances: TEST_PLAN.pollPath.clusterInstances });
    expect(pollPath.redisCluster!.shardShares).toHaveLength(3);
    expect(formatTable(results)).toContain('Poll path');
  }, 420_000);
});
