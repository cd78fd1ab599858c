/**
 * What one poll costs Redis (issue 12): real gateway processes on a private Redis (one primary, then a
 * private 3-master Redis Cluster), a few hundred sessions queued at the emulator at a short interval, no
 * subscribers. Measured from the Redis side with the bench's own code (bench/poll-path.ts):
 * - round trips per poll: MONITOR lines sent by the gateways (a command a script runs inside shows as `lua`
 *   and is not one), over a window ÷ the posts the emulator answered in it;
 * - Redis CPU per poll: INFO cpu (used_cpu_user + used_cpu_sys, every node) over a window without MONITOR,
 *   less Redis's idle rate read before any gateway connected, ÷ the posts in that window.
 * Both must hold with 1 and 2 instances: Redis work per poll does not grow with the instance count.
 * Each case starts its own Redis (or cluster), emulator and gateways; about 7 s of windows and warm-up each,
 * plus process starts (30–80 s per case at a load average of 15–25 on 2 cores; far less on a quiet machine).
 */
import { describe, expect, it } from 'vitest';
import { measurePollCost, type PollBackend } from '../../bench/poll-path.js';
import { GAP_SLACK_MS } from '../../bench/report.js';

const SESSIONS = 300;
const INTERVAL_MS = 500;
const MAX_ROUND_TRIPS_PER_POLL = 3;
const MAX_REDIS_CPU_MICROS_PER_POLL = 30;

const TOPOLOGIES: [string, PollBackend][] = [
  ['one Redis primary', 'redis'],
  ['a 3-master Redis Cluster', 'cluster'],
];

describe.each(TOPOLOGIES)('the cost of a poll on %s', (_, backend) => {
  it.each([1, 2])(`with %i instance(s): at most ${MAX_ROUND_TRIPS_PER_POLL} Redis round trips and ${MAX_REDIS_CPU_MICROS_PER_POLL} µs of Redis CPU per poll`, async (instances) => {
    const cost = await measurePollCost({
      backend,
      instances,
      masters: 3,
      sessions: SESSIONS,
      intervalMs: INTERVAL_MS,
      windowMs: 2_000,
      monitorWindowMs: 1_000,
      idleWindowMs: 1_000,
      // Redis's side of a poll does not depend on how far V8 has optimised the gateway: a short warm-up will do.
      maxWarmupMs: 3_000,
    });
    const redis = cost.redis!;
    const figures = JSON.stringify({ cpuMicrosPerPoll: cost.cpuMicrosPerPoll, polls: cost.polls, ...redis });

    // The windows saw real polling through Redis: a broken probe or monitor must not pass as "cheap".
    expect(redis.masters, figures).toBe(backend === 'cluster' ? 3 : 1);
    expect(cost.polls.sessionsPolled, figures).toBeGreaterThan(SESSIONS / 2);
    expect(redis.monitorPolls, figures).toBeGreaterThan(0);
    expect(redis.redisRoundTripsPerPoll, figures).toBeGreaterThan(0);
    expect(redis.redisCommandsPerPoll, figures).toBeGreaterThan(0);
    // One poller per session across the instances: no session posted twice within the interval.
    expect(cost.polls.minGapMs ?? INTERVAL_MS, figures).toBeGreaterThanOrEqual(INTERVAL_MS - GAP_SLACK_MS);

    expect(redis.redisRoundTripsPerPoll, `round trips per poll; ${figures}`).toBeLessThanOrEqual(MAX_ROUND_TRIPS_PER_POLL);
    expect(redis.redisCpuMicrosPerPoll, `Redis CPU µs per poll; ${figures}`).toBeLessThanOrEqual(MAX_REDIS_CPU_MICROS_PER_POLL);
  }, 180_000);
});
