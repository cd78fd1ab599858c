/** The poll path's printed table and its targets (issue 12), for bench/report.ts and `npx tsx bench/poll-path.ts`. */
import type { PollPathFigures } from './poll-path.js';

export interface Target {
  target: string;
  value: number;
  met: boolean;
}

/** Issue 12's targets. The worst value over the instance counts is the one that must hold. */
export function pollPathTargets(figures: PollPathFigures): Record<string, Target> {
  const redisRows = [...figures.redis, ...(figures.redisCluster ? [figures.redisCluster] : [])];
  const worst = (values: number[]) => (values.length ? Math.max(...values) : Number.NaN);
  const target = (description: string, value: number, met: boolean) => ({ target: description, value, met });
  const redisToBare = worst([...figures.ratios.redisToBareCpu, ...(figures.ratios.clusterToBareCpu === null ? [] : [figures.ratios.clusterToBareCpu])]);
  const roundTrips = worst(redisRows.map((row) => row.redisRoundTripsPerPoll));
  const redisCpu = worst(redisRows.map((row) => row.redisCpuMicrosPerPoll));
  const targets: Record<string, Target> = {
    pollPathMemoryCpuToBare: target('<= 1.5 (gateway CPU per poll in memory ÷ the bare loop)', figures.ratios.memoryToBareCpu, figures.ratios.memoryToBareCpu <= 1.5),
    pollPathRedisCpuToBare: target('<= 2 (gateway CPU per poll on Redis ÷ the bare loop, worst instance count)', redisToBare, redisToBare <= 2),
    pollPathRedisRoundTrips: target('<= 3 per poll (MONITOR, not lua; worst instance count)', roundTrips, roundTrips <= 3),
    pollPathRedisCpu: target('<= 30 µs per poll (INFO cpu less idle; worst instance count)', redisCpu, redisCpu <= 30),
  };
  if (figures.redisCluster) {
    const share = figures.redisCluster.largestShardShare;
    targets.pollPathLargestShardShare = target(`<= 0.45 (largest master's share of commands, ${figures.redisCluster.masters} masters)`, share, share <= 0.45);
  } else if (figures.redisClusterError !== undefined) {
    targets.pollPathLargestShardShare = target('<= 0.45 (the cluster configuration did not run)', Number.NaN, false);
  }
  return targets;
}

const pad = (value: unknown, width: number) => String(value ?? '–').padStart(width);

export function formatPollPathTable(figures: PollPathFigures): string {
  const header =
    `${'config'.padEnd(16)}${pad('µs CPU/poll', 13)}${pad('× bare', 8)}${pad('polls/sess/int gaps', 21)}${pad('count', 7)}` +
    `${pad('round trips', 13)}${pad('commands', 10)}${pad('Redis µs', 10)}${pad('lua', 6)}${pad('largest shard', 15)}`;
  const row = (
    name: string,
    entry: { cpuMicrosPerPoll: number; pollsPerSessionPerInterval: number; polledInWindowPerInterval: number; steadyBeforeWindow: boolean; cpuSettledBeforeWindow: boolean },
    toBare: number | null,
    redis?: { redisRoundTripsPerPoll: number; redisCommandsPerPoll: number; redisCpuMicrosPerPoll: number; redisScriptCommandsPerPoll: number; largestShardShare: number },
    showShard = false,
  ) =>
    `${name.padEnd(16)}${pad(entry.cpuMicrosPerPoll, 13)}${pad(toBare, 8)}${pad(entry.pollsPerSessionPerInterval, 21)}${pad(entry.polledInWindowPerInterval, 7)}` +
    `${pad(redis?.redisRoundTripsPerPoll, 13)}${pad(redis?.redisCommandsPerPoll, 10)}${pad(redis?.redisCpuMicrosPerPoll, 10)}${pad(redis?.redisScriptCommandsPerPoll, 6)}` +
    `${pad(showShard ? redis?.largestShardShare : undefined, 15)}${entry.steadyBeforeWindow ? '' : '  (never steady before the window: behind)'}${entry.cpuSettledBeforeWindow ? '' : '  (CPU per poll still falling at the window)'}`;
  const cluster = figures.redisCluster;
  const lines = [
    `Poll path: ${figures.sessions} queued sessions at a ${figures.intervalMs} ms interval, no subscribers; window ${figures.windowMs} ms (MONITOR: ${figures.monitorWindowMs} ms); polls counted at the emulator`,
    header,
    row('bare', figures.bare, 1),
    row('memory', figures.memory, figures.ratios.memoryToBareCpu),
    ...figures.redis.map((entry, i) => row(`redis ×${entry.instances}`, entry, figures.ratios.redisToBareCpu[i] ?? null, entry)),
    ...(cluster ? [row(`cluster ${cluster.masters}m ×${cluster.instances}`, cluster, figures.ratios.clusterToBareCpu, cluster, true)] : []),
    ...(figures.redisClusterError === undefined ? [] : [`cluster: not measured: ${figures.redisClusterError.split('\n')[0]}`]),
    'round trips by command (per poll):',
    ...[...figures.redis.map((entry) => [`redis ×${entry.instances}`, entry.roundTripsByCommand] as const), ...(cluster ? [[`cluster ×${cluster.instances}`, cluster.roundTripsByCommand] as const] : [])].map(
      ([name, byCommand]) => `  ${name}: ${Object.entries(byCommand).map(([command, count]) => `${command} ${count}`).join(', ') || '–'}`,
    ),
  ];
  return lines.join('\n');
}
