/** Turns measured figures into bench/results.json's shape (shared/spec/bench-results.md) and a printed table. */
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { FanoutFigures } from './fanout.js';
import type { MutationFigures } from './mutation.js';
import { CONFIGURATIONS } from './mutation.js';
import type { BenchPlan } from './plan.js';
import type { PollPathFigures } from './poll-path.js';
import { formatPollPathTable, pollPathTargets } from './poll-path-report.js';
import { formatQueueEstimate, queueEstimateTargets, type QueueEstimateFigures } from './queue-estimate.js';

export interface BenchResults {
  mode: BenchPlan['mode'];
  machine: { cores: number; node: string; at: string; cpu: string; loadAverageAtStart: number[]; loadAverageAtEnd?: number[] };
  placement: string;
  mutation: MutationFigures;
  fanout: FanoutFigures & { connections: number };
  scaling: {
    factor: number;
    sessions: number;
    subscriptions: number;
    bytesPerSubscription: number;
    rssBytesPerSubscription: number;
    heapBytesPerSubscription: number;
    connections: number;
    pollsPerSessionPerInterval: number;
    polledInWindowPerInterval: number;
    cpuMicrosPerPoll: number;
    minPollGapMs: number | null;
    meanPollGapMs: number | null;
    spreadP50Ms: number;
    spreadP99Ms: number;
    subscribeAllMs: number;
    errors: number;
  }[];
  pollPath: PollPathFigures;
  queueEstimate?: QueueEstimateFigures;
  targets: Record<string, { target: string; value: number; met: boolean }>;
}

/**
 * Gaps are timed when the emulator answers, while the poller counts its interval from when the answer
 * reached it, so two answers can sit a millisecond or two closer than the interval.
 */
export const GAP_SLACK_MS = 10;

export const PLACEMENT =
  'No CPU pinning: three processes on 2 cores. The load generator (autocannon, graphql-ws clients) in the bench process; ' +
  'the emulator in a child of its own; each server under test in a child of its own, only the one being measured under load. ' +
  'A server under test can take a core to itself; the load generator and the emulator share the other.';

export function machineInfo(loadAtStart: number[]): BenchResults['machine'] {
  return { cores: availableParallelism(), node: process.version, at: new Date().toISOString(), cpu: cpus()[0]?.model ?? 'unknown', loadAverageAtStart: loadAtStart };
}

export const currentLoad = (): number[] => loadavg().map((value) => Number(value.toFixed(2)));

export function buildResults(
  plan: BenchPlan,
  machine: BenchResults['machine'],
  mutation: MutationFigures,
  scaling: FanoutFigures[],
  pollPath: PollPathFigures,
): BenchResults {
  const headline = scaling[0]!;
  const first = scaling[0]!;
  const last = scaling[scaling.length - 1]!;
  const heapGrowth = last.bytesPerSubscription.heap / Math.max(1, first.bytesPerSubscription.heap);
  const pollCostGrowth = last.cpuMicrosPerPoll / Math.max(1, first.cpuMicrosPerPoll);
  const worstBytes = Math.max(headline.bytesPerSubscription.rss, headline.bytesPerSubscription.heap);
  const target = (description: string, value: number, met: boolean) => ({ target: description, value, met });
  return {
    mode: plan.mode,
    machine,
    placement: PLACEMENT,
    mutation,
    fanout: headline,
    scaling: scaling.map((f) => ({
      factor: f.factor,
      sessions: f.sessions,
      subscriptions: f.subscriptions,
      bytesPerSubscription: Math.max(f.bytesPerSubscription.rss, f.bytesPerSubscription.heap),
      rssBytesPerSubscription: f.bytesPerSubscription.rss,
      heapBytesPerSubscription: f.bytesPerSubscription.heap,
      connections: f.connections,
      pollsPerSessionPerInterval: f.pollsPerSessionPerInterval,
      polledInWindowPerInterval: f.polledInWindowPerInterval,
      cpuMicrosPerPoll: f.cpuMicrosPerPoll,
      minPollGapMs: f.polls.minGapMs,
      meanPollGapMs: f.polls.meanGapMs === null ? null : Math.round(f.polls.meanGapMs),
      spreadP50Ms: f.spreadMs.p50,
      spreadP99Ms: f.spreadMs.p99,
      subscribeAllMs: f.subscribeAllMs,
      errors: f.errors,
    })),
    pollPath,
    targets: {
      gatewayToFloorRps: target('>= 0.9', mutation.ratios.gatewayToFloorRps, mutation.ratios.gatewayToFloorRps >= 0.9),
      gatewayToFloorP99: target('<= 1.25', mutation.ratios.gatewayToFloorP99, mutation.ratios.gatewayToFloorP99 <= 1.25),
      gatewayToPeerRps: target('>= 1.1', mutation.ratios.gatewayToPeerRps, mutation.ratios.gatewayToPeerRps >= 1.1),
      gatewayToPeerP99: target('<= 1.0', mutation.ratios.gatewayToPeerP99, mutation.ratios.gatewayToPeerP99 <= 1),
      bytesPerSubscription: target('<= 8192 (rss and heap)', worstBytes, worstBytes <= 8192),
      // The poller never asks before the advised interval (its jitter only lengthens it), so exactly one poll
      // per session per interval shows as a ratio just under 1 and no session posted twice within an interval.
      // Both readings must agree (each can err on its own side: gaps leave out a session polled only once in
      // the window, a count over the window aliases when sessions poll in step), and no post may come early.
      pollsPerSessionPerInterval: target(
        '1 per session per interval: 0.9–1.0 by gaps and by count, no two posts of a session closer than the interval',
        Math.min(headline.pollsPerSessionPerInterval, headline.polledInWindowPerInterval),
        keptUp(headline) && (headline.polls.minGapMs ?? Number.POSITIVE_INFINITY) >= headline.pollIntervalMs - GAP_SLACK_MS,
      ),
      spreadP99Ms: target('<= 50', headline.spreadMs.p99, headline.spreadMs.p99 <= 50),
      // Linear poll cost: each poll costs the process no more at the largest load than at the first.
      pollCostGrowth: target(`<= ~1 (CPU per poll, ${last.factor}× ÷ ${first.factor}×)`, Number(pollCostGrowth.toFixed(2)), pollCostGrowth <= 1.25),
      // Whether this machine kept up with one poll per session per interval at the largest load.
      pollsAtLargestLoad: target(`0.9–1.0 at ${last.factor}× too, by gaps and by count`, Math.min(last.pollsPerSessionPerInterval, last.polledInWindowPerInterval), keptUp(last)),
      heapPerSubscriptionGrowth: target(`<= ~1 (last factor ÷ first, ${last.factor}× vs ${first.factor}×)`, Number(heapGrowth.toFixed(2)), heapGrowth <= 1.25),
      ...pollPathTargets(pollPath),
    },
  };
}

/** One poll per session per interval, by both readings (see FanoutFigures). */
function keptUp(f: FanoutFigures): boolean {
  return [f.pollsPerSessionPerInterval, f.polledInWindowPerInterval].every((rate) => rate >= 0.9 && rate <= 1.02);
}

const pad = (value: unknown, width: number) => String(value).padStart(width);

export function formatTable(results: BenchResults): string {
  const { mutation: m, machine } = results;
  const lines = [
    `gsms-graphql benchmark (${results.mode}) — ${machine.cores} cores (${machine.cpu}), node ${machine.node}, ${machine.at}, load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${machine.loadAverageAtEnd?.join(' ') ?? '?'}`,
    `placement: ${results.placement}`,
    '',
    `Mutation path: c=${m.concurrency}, ${m.durationS} s × ${m.runs} runs each, interleaved; ${m.sessions} rotating sessions, all fulfilled`,
    `${'config'.padEnd(8)}${pad('req/s median', 14)}${pad('min–max', 18)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('µs CPU/req', 12)}${pad('errors', 8)}`,
    ...CONFIGURATIONS.map((name) => {
      const c = m[name];
      return `${name.padEnd(8)}${pad(c.rps.median, 14)}${pad(`${c.rps.min}–${c.rps.max}`, 18)}${pad(c.p50Ms, 8)}${pad(c.p99Ms, 8)}${pad(c.cpuMicrosPerRequest, 12)}${pad(c.errors, 8)}`;
    }),
    `gateway/floor: ${m.ratios.gatewayToFloorRps}× req/s, ${m.ratios.gatewayToFloorP99}× p99, ${m.ratios.gatewayToFloorCpuPerRequest}× CPU/req    gateway/peer: ${m.ratios.gatewayToPeerRps}× req/s, ${m.ratios.gatewayToPeerP99}× p99, ${m.ratios.gatewayToPeerCpuPerRequest}× CPU/req`,
    '',
    `Subscription fan-out (one gateway process; poll interval ${results.fanout.pollIntervalMs} ms)`,
    `${'factor'.padEnd(7)}${pad('sessions', 9)}${pad('subs', 8)}${pad('conns', 7)}${pad('B/sub rss', 11)}${pad('B/sub heap', 12)}${pad('polls/sess/int gaps', 21)}${pad('count', 7)}${pad('µs CPU/poll', 13)}${pad('min gap ms', 12)}${pad('mean gap', 10)}${pad('spread p50', 12)}${pad('p99', 8)}${pad('errors', 8)}`,
    ...results.scaling.map(
      (f) =>
        `${`${f.factor}×`.padEnd(7)}${pad(f.sessions, 9)}${pad(f.subscriptions, 8)}${pad(f.connections, 7)}${pad(f.rssBytesPerSubscription, 11)}${pad(f.heapBytesPerSubscription, 12)}${pad(f.pollsPerSessionPerInterval, 21)}${pad(f.polledInWindowPerInterval, 7)}${pad(f.cpuMicrosPerPoll, 13)}${pad(f.minPollGapMs ?? '–', 12)}${pad(f.meanPollGapMs ?? '–', 10)}${pad(f.spreadP50Ms, 12)}${pad(f.spreadP99Ms, 8)}${pad(f.errors, 8)}`,
    ),
    '',
    formatPollPathTable(results.pollPath),
    '',
    ...(results.queueEstimate ? [formatQueueEstimate(results.queueEstimate), ''] : []),
    'Targets',
    ...Object.entries(results.targets).map(([name, t]) => `  ${t.met ? 'met    ' : 'NOT MET'} ${name}: ${t.value} (target ${t.target})`),
  ];
  return lines.join('\n');
}

/** Part 5's figures and targets, added to the results (bench/queue-estimate.ts). */
export function withQueueEstimate(results: BenchResults, figures: QueueEstimateFigures): BenchResults {
  const targets = queueEstimateTargets(figures);
  return {
    ...results,
    queueEstimate: figures,
    targets: {
      ...results.targets,
      queueEstimateMedian: { target: '<= 0.2 (|estimate − actual| / actual)', value: figures.medianRelativeError, met: targets.queueEstimateMedian },
      queueEstimateP90: { target: '<= 0.5', value: figures.p90RelativeError, met: targets.queueEstimateP90 },
      queueOrderViolations: { target: '0 (positions in the emulator\'s FIFO order)', value: figures.orderViolations, met: targets.queueOrder },
    },
  };
}
