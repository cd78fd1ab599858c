/**
 * What one benchmark run does: every size and duration in one object, so `npm run bench`, `--quick` and the
 * test (tiny numbers) run the same code with different plans.
 */
import type { QueueEstimatePlan } from './queue-estimate.js';

export interface MutationPlan {
  concurrency: number;
  /** Seconds each measured run lasts. */
  durationS: number;
  /** Seconds of load per configuration before the measured rounds (not recorded). */
  warmupS: number;
  /** Measured runs per configuration, interleaved (direct, floor, peer, gateway, direct, …). */
  runs: number;
  /** Distinct session ids the load rotates through (all pre-fulfilled, so every post is the same upstream work). */
  sessions: number;
}

export interface FanoutPlan {
  /** Queued sessions at 1×. */
  sessions: number;
  subscribersPerSession: number;
  /** Subscriptions carried by each graphql-ws connection (100 for 10,000 over 100 connections). */
  subscriptionsPerConnection: number;
  /** The `pollIntervalMilliseconds` the emulator advises. */
  pollIntervalMs: number;
  /** How many intervals polls are counted over. */
  pollWindowIntervals: number;
  /** Load factors (sessions and subscribers both scale): the first one is the headline. */
  factors: number[];
}

/** Part 4, the poll path (bench/poll-path.ts): queued sessions, no subscribers, what one poll costs. */
export interface PollPathPlan {
  sessions: number;
  /** The `pollIntervalMilliseconds` the emulator advises. */
  intervalMs: number;
  /** Gateway CPU, polls, Redis CPU and commands are read over this window. */
  windowMs: number;
  /** Round trips are read over a window of their own, under MONITOR (which costs Redis CPU itself). */
  monitorWindowMs: number;
  /** Redis's own idle CPU rate is read over at least this long, before any gateway connects. */
  idleWindowMs: number;
  /** Longest warm-up before the windows: until the pace is steady and CPU per poll stops falling (poll-path.ts). */
  maxWarmupMs: number;
  /** Gateway instance counts on one Redis primary. */
  redisInstances: number[];
  /** Gateway instances on the Redis Cluster (0: no cluster configuration). */
  clusterInstances: number;
  clusterMasters: number;
}

export interface BenchPlan {
  mode: 'full' | 'quick' | 'test';
  mutation: MutationPlan;
  fanout: FanoutPlan;
  pollPath: PollPathPlan;
  /** Part 5, queue position and estimated wait against real waits (bench/queue-estimate.ts). */
  queueEstimate: QueueEstimatePlan;
}

export const FULL_PLAN: BenchPlan = {
  mode: 'full',
  mutation: { concurrency: 64, durationS: 5, warmupS: 3, runs: 10, sessions: 2_000 },
  fanout: {
    sessions: 1_000,
    subscribersPerSession: 10,
    subscriptionsPerConnection: 100,
    pollIntervalMs: 5_000,
    pollWindowIntervals: 4,
    factors: [1, 4, 16],
  },
  pollPath: { sessions: 2_000, intervalMs: 1_000, windowMs: 10_000, monitorWindowMs: 5_000, idleWindowMs: 2_000, maxWarmupMs: 30_000, redisInstances: [1, 2, 4], clusterInstances: 2, clusterMasters: 3 },
  // The scenario: one title, capacity 4, clusters living 3 s, 40 at once then 2 a second for 30 s.
  queueEstimate: { burst: 40, perSecond: 2, durationS: 30, capacity: 4, clusterLifetimeMs: 3_000, pollIntervalMs: 250 },
};

export const QUICK_PLAN: BenchPlan = {
  mode: 'quick',
  mutation: { concurrency: 64, durationS: 2, warmupS: 1, runs: 3, sessions: 2_000 },
  fanout: {
    sessions: 1_000,
    subscribersPerSession: 10,
    subscriptionsPerConnection: 100,
    pollIntervalMs: 1_500,
    pollWindowIntervals: 2,
    factors: [1],
  },
  // Every configuration, smaller and shorter: the whole part in about a minute.
  pollPath: { sessions: 400, intervalMs: 1_000, windowMs: 2_500, monitorWindowMs: 1_500, idleWindowMs: 1_000, maxWarmupMs: 8_000, redisInstances: [1, 2, 4], clusterInstances: 2, clusterMasters: 3 },
  // The shape at a third of the time scale: about 12 s.
  queueEstimate: { burst: 20, perSecond: 4, durationS: 5, capacity: 4, clusterLifetimeMs: 1_000, pollIntervalMs: 100 },
};

/** For the test that keeps the code path from rotting: seconds, a handful of sessions. */
export const TEST_PLAN: BenchPlan = {
  mode: 'test',
  mutation: { concurrency: 4, durationS: 0.5, warmupS: 0.2, runs: 1, sessions: 10 },
  fanout: {
    sessions: 5,
    subscribersPerSession: 3,
    subscriptionsPerConnection: 5,
    pollIntervalMs: 200,
    pollWindowIntervals: 2,
    factors: [1, 2],
  },
  // One primary with one instance, the cluster with two: every code path, in a few seconds each.
  pollPath: { sessions: 20, intervalMs: 500, windowMs: 1_000, monitorWindowMs: 1_000, idleWindowMs: 300, maxWarmupMs: 2_000, redisInstances: [1], clusterInstances: 2, clusterMasters: 3 },
  queueEstimate: { burst: 8, perSecond: 4, durationS: 2, capacity: 2, clusterLifetimeMs: 500, pollIntervalMs: 50 },
};
