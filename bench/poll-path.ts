/**
 * Part 4, the poll path: what one poll of a queued session costs, with no subscribers. Sessions are queued
 * at the emulator (capacity 0: every post answers Queued) at a fixed advised interval; after one interval of
 * steady polling, a window is read. Each configuration runs in fresh processes (and a fresh Redis):
 * - `bare`: plain undici loops posting the same bodies at the same pace (bench/poll-path-bare.ts): the floor;
 * - `memory`: one gateway, in-memory registry;
 * - `redis`: 1, 2, 4 gateways on one private redis-server;
 * - `redisCluster`: gateways on a private 3-master Redis Cluster (test/support/redis-cluster.ts).
 *
 * Figures (per poll, polls being the posts the emulator answered in the window):
 * - gateway CPU: utime + stime from /proc of every gateway process over the window, summed;
 * - Redis commands and CPU: `INFO cpu stats` deltas over the same window, summed over nodes, less our own INFO
 *   commands and less the idle CPU rate of Redis with the gateways connected and nothing queued (their own
 *   heartbeats, outbox reads and connections: work that does not grow with polls); the figure with only
 *   Redis's own idle rate taken off (read before any gateway connected) is kept beside it;
 * - Redis round trips: `MONITOR` lines not marked `lua`, over a second window (MONITOR costs Redis CPU).
 *
 * `npx tsx bench/poll-path.ts [--quick]` runs this part alone and prints its table and JSON.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { spawnRedisServer } from '../test/support/redis.js';
import { spawnRedisCluster } from '../test/support/redis-cluster.js';
import { startChild, closeAll, type BenchChild } from './child-process.js';
import type { PollStats } from './child-protocol.js';
import { totalCpuMicros } from './poll-path-cpu.js';
import { RedisMonitor, RedisProbe, sampleAll, sumMonitorCounts, type RedisNodeAddress, type RedisNodeSample } from './poll-path-redis.js';
import type { PollPathPlan } from './plan.js';
import { round } from './stats.js';
import { GRAPHQL_HEADERS, benchSessionId, graphqlBody } from './workload.js';

export type PollBackend = 'bare' | 'memory' | 'redis' | 'cluster';

export interface PollCostOptions {
  backend: PollBackend;
  /** Gateway processes (1 for bare and memory). */
  instances: number;
  sessions: number;
  intervalMs: number;
  windowMs: number;
  monitorWindowMs: number;
  idleWindowMs: number;
  /** Longest warm-up before the windows (default 10 s). */
  maxWarmupMs?: number;
  /** Masters of the Redis Cluster (backend `cluster`). */
  masters?: number;
}

export interface PollCost {
  backend: PollBackend;
  instances: number;
  /** Process CPU (all gateway processes, or the bare loop's) over the window ÷ polls in it, µs. */
  cpuMicrosPerPoll: number;
  /** The interval ÷ the mean gap between a session's posts, times the share of sessions polled (bench/fanout.ts). */
  pollsPerSessionPerInterval: number;
  /** Posts in the window ÷ (sessions × intervals in the window): the same rate, counted. */
  polledInWindowPerInterval: number;
  polls: PollStats;
  /** How long the warm-up took and what it reached (see warmUp). */
  warmup: Warmup;
  redis?: RedisPollCost;
}

export interface RedisPollCost {
  masters: number;
  /** MONITOR lines sent by gateways (not `lua`) ÷ polls in the monitor window. */
  redisRoundTripsPerPoll: number;
  /** `total_commands_processed` delta (script-internal commands included), less ours, ÷ polls. */
  redisCommandsPerPoll: number;
  /** `used_cpu_user + used_cpu_sys` delta less the rate with the gateways connected and idle, ÷ polls, µs: what polling adds. */
  redisCpuMicrosPerPoll: number;
  /** The same less only Redis's own idle rate: the gateways' background work charged to their polls. */
  redisCpuMicrosPerPollWithBackground: number;
  /** Redis's CPU with the gateways connected and nothing queued, µs per second (subtracted above). */
  backgroundCpuMicrosPerSecond: number;
  /** Commands run inside scripts (MONITOR `lua` lines) ÷ polls in the monitor window. */
  redisScriptCommandsPerPoll: number;
  /** Round trips per poll by command name (EVALSHA, GET, …), from the monitor window. */
  roundTripsByCommand: Record<string, number>;
  /** Round trips per poll sent to each node, in node order (where a cluster's load lands). */
  roundTripsPerNode?: number[];
  /** Each master's share of the window's commands, in node order. */
  shardShares: number[];
  largestShardShare: number;
  /** Redis's own CPU with no gateway connected, summed over nodes, µs per second (subtracted above). */
  idleCpuMicrosPerSecond: number;
  /** Posts the emulator answered in the MONITOR window. */
  monitorPolls: number;
}

/** A private Redis for one configuration: clean INFO figures, nothing else on it. */
interface RedisTarget {
  nodes: RedisNodeAddress[];
  env: Record<string, string>;
  dispose(): Promise<void>;
}

async function startRedisTarget(backend: 'redis' | 'cluster', masters: number): Promise<RedisTarget> {
  if (backend === 'redis') {
    const server = await spawnRedisServer();
    return { nodes: [{ host: '127.0.0.1', port: server.port }], env: { REDIS_URL: server.url }, dispose: () => server.dispose() };
  }
  const cluster = await spawnRedisCluster({ masters });
  return { nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })), env: { REDIS_CLUSTER_NODES: cluster.nodes }, dispose: () => cluster.dispose() };
}

/** Measures one configuration in fresh processes and removes them. */
export async function measurePollCost(options: PollCostOptions, progress: (line: string) => void = () => {}): Promise<PollCost> {
  const { backend, instances, sessions, intervalMs } = options;
  const label = backend === 'redis' || backend === 'cluster' ? `${backend} ×${instances}` : backend;
  const sessionPrefix = `poll-${backend}-${instances}`;
  const children: (BenchChild | undefined)[] = [];
  let redis: RedisTarget | undefined;
  let probes: RedisProbe[] = [];
  try {
    if (backend === 'redis' || backend === 'cluster') {
      redis = await startRedisTarget(backend, options.masters ?? 3);
      probes = await Promise.all(redis.nodes.map((node) => RedisProbe.open(node)));
      // The cluster helper's nodes fsync an append-only file on every write (for its restart tests); the single
      // primary has none. Off here, so both topologies pay the same per command.
      if (backend === 'cluster') await Promise.all(probes.map((probe) => probe.command('CONFIG', 'SET', 'appendonly', 'no')));
    }

    // Redis's idle rate is read while the emulator starts: nothing talks to Redis yet but our INFO.
    const idleFrom = await sampleWindowEdge(probes);
    const [emulator] = await Promise.all([startChild('emulator', { capacity: 0, pollIntervalMs: intervalMs }), sleep(options.idleWindowMs)]);
    children.push(emulator);
    const idleTo = await sampleWindowEdge(probes);

    let pids: number[];
    let backgroundFrom: WindowEdge | undefined;
    let backgroundTo: WindowEdge | undefined;
    if (backend === 'bare') {
      const bare = await startChild('barePoller', { upstreamUrl: emulator.url, sessions, sessionPrefix, pollIntervalMs: intervalMs });
      children.push(bare);
      pids = [bare.pid];
    } else {
      const env = {
        // Longer than any run: a watch that ended mid-window would stop its session's polling.
        GSMS_WATCH_TIMEOUT_MS: '3600000',
        GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex'),
        REDIS_KEY_PREFIX: 'bench:',
        ...redis?.env,
      };
      const gateways = await Promise.all(Array.from({ length: instances }, () => startChild('gateway', { upstreamUrl: emulator.url, env })));
      children.push(...gateways);
      pids = gateways.map((gateway) => gateway.pid);
      if (redis) {
        // The gateways' background rate: connected, beating and reading the outbox, with nothing to poll.
        await sleep(options.idleWindowMs);
        backgroundFrom = await sampleWindowEdge(probes);
        await sleep(Math.max(2_000, options.idleWindowMs));
        backgroundTo = await sampleWindowEdge(probes);
      }
      progress(`  ${label}: queueing ${sessions} sessions`);
      await queueSessions(
        gateways.map((gateway) => gateway.url),
        Array.from({ length: sessions }, (_, i) => benchSessionId(i, sessionPrefix)),
      );
      if (redis && (await Promise.all(probes.map((probe) => probe.keyCount()))).every((keys) => keys === 0)) {
        throw new Error(`${label}: the gateways wrote nothing to Redis (does this build read ${Object.keys(redis.env).join(', ')}?)`);
      }
    }
    // Freshly started processes run cold (unoptimised code, new connections) and a loaded machine makes that
    // last: the windows open only once an interval has seen nearly every session polled.
    const warmup = await warmUp(emulator, pids, sessions, intervalMs, options.maxWarmupMs ?? 10_000);
    progress(
      `  ${label}: warm-up ${warmup.ms} ms: pace ${warmup.steady ? 'steady' : 'NOT steady'} (${warmup.lastRate} of the sessions in an interval), ` +
        `CPU per poll ${warmup.cpuSettled ? 'settled' : 'still moving'}`,
    );

    progress(`  ${label}: CPU, polls, Redis commands over ${options.windowMs} ms`);
    const from = await sampleWindowEdge(probes, pids);
    await emulator.call('openPollWindow');
    await sleep(options.windowMs);
    const polls = await emulator.call('closePollWindow');
    const to = await sampleWindowEdge(probes, pids);

    const figures: PollCost = {
      backend,
      instances,
      cpuMicrosPerPoll: Math.round((to.cpuMicros - from.cpuMicros) / Math.max(1, polls.polls)),
      pollsPerSessionPerInterval: polls.meanGapMs === null ? 0 : round((intervalMs / polls.meanGapMs) * (polls.sessionsPolled / sessions), 3),
      polledInWindowPerInterval: round(polls.polls / ((sessions * polls.windowMs) / intervalMs), 3),
      polls,
      warmup,
    };
    if (redis) {
      progress(`  ${label}: round trips under MONITOR over ${options.monitorWindowMs} ms`);
      const monitors = await Promise.all(redis.nodes.map((node) => RedisMonitor.open(node, probes.map((probe) => probe.clientAddress))));
      await emulator.call('openPollWindow');
      await sleep(options.monitorWindowMs);
      const monitorPolls = (await emulator.call('closePollWindow')).polls;
      const perNode = monitors.map((monitor) => monitor.close());
      figures.redis = redisFigures({ idleFrom, idleTo, backgroundFrom: backgroundFrom!, backgroundTo: backgroundTo!, from, to, polls: polls.polls, monitorPolls, seen: sumMonitorCounts(perNode) });
      figures.redis.roundTripsPerNode = perNode.map((counts) => round(counts.clientCommands / Math.max(1, monitorPolls), 2));
    }
    return figures;
  } finally {
    for (const probe of probes) probe.close();
    await closeAll(children);
    await redis?.dispose();
  }
}

/**
 * Warm-up before the windows, in two steps. First the pace: an interval must see at least 0.85 of the sessions
 * polled (from the second interval on). Then the cost: V8 keeps optimising a freshly started process for tens
 * of thousands of polls (a bare loop at 400 polls/s measured 960, 565, 302, 257, 243, 195 µs per poll in
 * successive 2.5 s blocks), so blocks of two intervals are read until one's CPU per poll is within 10% of the
 * one before. Both steps stop at `maxWarmupMs`; what was reached is recorded.
 */
const WARMUP = { minIntervals: 2, steadyRate: 0.85, cpuBlockIntervals: 2, cpuSettled: 0.1 };

export interface Warmup {
  /** An interval polled at least 0.85 of the sessions. */
  steady: boolean;
  /** CPU per poll stopped falling (two blocks within 10%). */
  cpuSettled: boolean;
  ms: number;
  /** Share of the sessions polled in the last interval of the first step. */
  lastRate: number;
}

async function warmUp(emulator: BenchChild, pids: readonly number[], sessions: number, intervalMs: number, maxWarmupMs: number): Promise<Warmup> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let lastRate = 0;
  let steady = false;
  for (let intervals = 1; !steady && (intervals <= WARMUP.minIntervals || elapsed() < maxWarmupMs); intervals += 1) {
    await emulator.call('openPollWindow');
    await sleep(intervalMs);
    const { polls, windowMs } = await emulator.call('closePollWindow');
    lastRate = round((polls * intervalMs) / windowMs / sessions, 2);
    steady = intervals >= WARMUP.minIntervals && lastRate >= WARMUP.steadyRate;
  }
  let cpuSettled = false;
  for (let previous: number | null = null; steady && !cpuSettled && elapsed() < maxWarmupMs; ) {
    const before = await totalCpuMicros(pids);
    await emulator.call('openPollWindow');
    await sleep(intervalMs * WARMUP.cpuBlockIntervals);
    const { polls } = await emulator.call('closePollWindow');
    const perPoll = ((await totalCpuMicros(pids)) - before) / Math.max(1, polls);
    cpuSettled = previous !== null && Math.abs(perPoll - previous) <= WARMUP.cpuSettled * previous;
    previous = perPoll;
  }
  return { steady, cpuSettled, ms: Math.round(elapsed()), lastRate };
}

interface WindowEdge {
  at: number;
  cpuMicros: number;
  nodes: RedisNodeSample[];
}

async function sampleWindowEdge(probes: readonly RedisProbe[], pids: readonly number[] = []): Promise<WindowEdge> {
  const [cpuMicros, nodes] = await Promise.all([totalCpuMicros(pids), sampleAll(probes)]);
  return { at: performance.now(), cpuMicros, nodes };
}

function redisFigures(input: {
  idleFrom: WindowEdge;
  idleTo: WindowEdge;
  backgroundFrom: WindowEdge;
  backgroundTo: WindowEdge;
  from: WindowEdge;
  to: WindowEdge;
  polls: number;
  monitorPolls: number;
  seen: ReturnType<typeof sumMonitorCounts>;
}): RedisPollCost {
  const { idleFrom, idleTo, backgroundFrom, backgroundTo, from, to, polls, monitorPolls, seen } = input;
  const delta = (a: WindowEdge, b: WindowEdge, field: keyof RedisNodeSample) => b.nodes.map((node, i) => node[field] - a.nodes[i]![field]);
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  // With nothing else connected, the idle window's commands are exactly the INFO calls of one pair of samples.
  const ownCommandsPerNode = delta(idleFrom, idleTo, 'commands');
  const idleCpuPerMs = sum(delta(idleFrom, idleTo, 'cpuMicros')) / Math.max(1, idleTo.at - idleFrom.at);
  const commandsPerNode = delta(from, to, 'commands').map((commands, i) => Math.max(0, commands - ownCommandsPerNode[i]!));
  const commands = sum(commandsPerNode);
  const backgroundCpuPerMs = Math.max(idleCpuPerMs, sum(delta(backgroundFrom, backgroundTo, 'cpuMicros')) / Math.max(1, backgroundTo.at - backgroundFrom.at));
  const cpuMicros = sum(delta(from, to, 'cpuMicros')) - backgroundCpuPerMs * (to.at - from.at);
  const cpuMicrosWithBackground = sum(delta(from, to, 'cpuMicros')) - idleCpuPerMs * (to.at - from.at);
  const shardShares = commandsPerNode.map((count) => round(count / Math.max(1, commands), 3));
  const perMonitorPoll = (count: number) => round(count / Math.max(1, monitorPolls), 2);
  return {
    masters: from.nodes.length,
    redisRoundTripsPerPoll: perMonitorPoll(seen.clientCommands),
    redisCommandsPerPoll: round(commands / Math.max(1, polls), 2),
    redisCpuMicrosPerPoll: round(cpuMicros / Math.max(1, polls), 1),
    redisCpuMicrosPerPollWithBackground: round(cpuMicrosWithBackground / Math.max(1, polls), 1),
    redisScriptCommandsPerPoll: perMonitorPoll(seen.scriptCommands),
    roundTripsByCommand: Object.fromEntries(Object.entries(seen.byCommand).sort(([, a], [, b]) => b - a).map(([name, count]) => [name, perMonitorPoll(count)])),
    shardShares,
    largestShardShare: Math.max(...shardShares),
    idleCpuMicrosPerSecond: Math.round(idleCpuPerMs * 1000),
    backgroundCpuMicrosPerSecond: Math.round(backgroundCpuPerMs * 1000),
    monitorPolls,
  };
}

/** requestCluster for every session through the gateways in turn, each answered QUEUED. */
export async function queueSessions(gatewayUrls: readonly string[], sessionIds: readonly string[]): Promise<void> {
  const targets = gatewayUrls.map((gatewayUrl) => {
    const url = new URL(gatewayUrl);
    return { path: url.pathname, pool: new Pool(url.origin, { connections: 16 }) };
  });
  try {
    for (let start = 0; start < sessionIds.length; start += 64) {
      await Promise.all(
        sessionIds.slice(start, start + 64).map(async (sessionId, offset) => {
          const { pool, path } = targets[(start + offset) % targets.length]!;
          const response = await pool.request({ method: 'POST', path, headers: GRAPHQL_HEADERS, body: graphqlBody(sessionId) });
          const text = await response.body.text();
          if (!text.includes('"QUEUED"')) throw new Error(`expected ${sessionId} to be QUEUED, got ${response.statusCode} ${text}`);
        }),
      );
    }
  } finally {
    await Promise.all(targets.map(({ pool }) => pool.close()));
  }
}

/** bench/results.json's `pollPath` (shared/spec/bench-results.md), plus the raw figures behind each entry. */
export interface PollPathFigures {
  sessions: number;
  intervalMs: number;
  windowMs: number;
  monitorWindowMs: number;
  pollsCountedAt: string;
  bare: PollPathEntry;
  memory: PollPathEntry;
  redis: (PollPathEntry & RedisEntry & { instances: number })[];
  redisCluster: (PollPathEntry & RedisEntry & { masters: number; instances: number; largestShardShare: number }) | null;
  /** Why the cluster configuration has no figures, when it has none. */
  redisClusterError?: string;
  ratios: { memoryToBareCpu: number; redisToBareCpu: number[]; clusterToBareCpu: number | null };
}

type PollPathEntry = Omit<PollCost, 'backend' | 'instances' | 'redis' | 'polls' | 'warmup'> & {
  polls: number;
  minPollGapMs: number | null;
  meanPollGapMs: number | null;
  warmupMs: number;
  steadyBeforeWindow: boolean;
  cpuSettledBeforeWindow: boolean;
};
type RedisEntry = Omit<RedisPollCost, 'masters'>;

function entryOf(cost: PollCost): PollPathEntry {
  return {
    cpuMicrosPerPoll: cost.cpuMicrosPerPoll,
    pollsPerSessionPerInterval: cost.pollsPerSessionPerInterval,
    polledInWindowPerInterval: cost.polledInWindowPerInterval,
    polls: cost.polls.polls,
    minPollGapMs: cost.polls.minGapMs,
    meanPollGapMs: cost.polls.meanGapMs === null ? null : Math.round(cost.polls.meanGapMs),
    warmupMs: cost.warmup.ms,
    steadyBeforeWindow: cost.warmup.steady,
    cpuSettledBeforeWindow: cost.warmup.cpuSettled,
  };
}

function redisEntryOf(cost: PollCost): PollPathEntry & RedisEntry {
  if (!cost.redis) throw new Error(`${cost.backend}: no Redis figures`);
  const { masters: _masters, ...redis } = cost.redis;
  return { ...entryOf(cost), ...redis };
}

/** Every configuration of the plan, one after another, each in fresh processes. */
export async function measurePollPath(plan: PollPathPlan, progress: (line: string) => void = () => {}): Promise<PollPathFigures> {
  const common = {
    sessions: plan.sessions,
    intervalMs: plan.intervalMs,
    windowMs: plan.windowMs,
    monitorWindowMs: plan.monitorWindowMs,
    idleWindowMs: plan.idleWindowMs,
    maxWarmupMs: plan.maxWarmupMs,
  };
  const bare = await measurePollCost({ ...common, backend: 'bare', instances: 1 }, progress);
  const memory = await measurePollCost({ ...common, backend: 'memory', instances: 1 }, progress);
  const redis = [];
  for (const instances of plan.redisInstances) redis.push(await measurePollCost({ ...common, backend: 'redis', instances }, progress));
  // A build without Redis Cluster support (or a machine without redis-cli) leaves the row empty and says why,
  // rather than losing the figures of every other configuration; its targets then read as not met.
  let cluster: PollCost | null = null;
  let redisClusterError: string | undefined;
  if (plan.clusterInstances > 0) {
    try {
      cluster = await measurePollCost({ ...common, backend: 'cluster', instances: plan.clusterInstances, masters: plan.clusterMasters }, progress);
    } catch (error) {
      redisClusterError = error instanceof Error ? error.message : String(error);
      progress(`  cluster: not measured: ${redisClusterError}`);
    }
  }
  const toBare = (cost: PollCost) => round(cost.cpuMicrosPerPoll / Math.max(1, bare.cpuMicrosPerPoll), 2);
  return {
    ...common,
    pollsCountedAt: 'the emulator: posts it answered in the window (every configuration alike, the bare loop has no /metrics)',
    bare: entryOf(bare),
    memory: entryOf(memory),
    redis: redis.map((cost) => ({ instances: cost.instances, ...redisEntryOf(cost) })),
    redisCluster: cluster && { masters: plan.clusterMasters, instances: cluster.instances, ...redisEntryOf(cluster) },
    ...(redisClusterError === undefined ? {} : { redisClusterError }),
    ratios: { memoryToBareCpu: toBare(memory), redisToBareCpu: redis.map(toBare), clusterToBareCpu: cluster && toBare(cluster) },
  };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { FULL_PLAN, QUICK_PLAN } = await import('./plan.js');
  const { formatPollPathTable } = await import('./poll-path-report.js');
  const plan = process.argv.includes('--quick') ? QUICK_PLAN : FULL_PLAN;
  const started = Date.now();
  const figures = await measurePollPath(plan.pollPath, (line) => console.log(line));
  console.log(`\n${JSON.stringify(figures, null, 2)}\n\n${formatPollPathTable(figures)}\n\npoll path (${plan.mode}) in ${Math.round((Date.now() - started) / 1000)} s`);
}
