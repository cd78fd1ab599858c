/**
 * Part 1: the mutation path. Four configurations against one emulator, each in its own process, loaded in
 * turn by autocannon from this process at the same concurrency and duration, interleaved round by round
 * (the order rotates each round so none always runs first or last). A warm-up of each precedes the rounds
 * and is not recorded.
 */
import autocannon from 'autocannon';
import { Pool } from 'undici';
import type { BenchChild } from './child-process.js';
import type { MutationPlan } from './plan.js';
import { median, spread, round, type Spread } from './stats.js';
import { GRAPHQL_HEADERS, TITLE_ID, UPSTREAM_HEADERS, authorizationFor, benchSessionId, graphqlBody, upstreamBody } from './workload.js';

export const CONFIGURATIONS = ['direct', 'floor', 'peer', 'gateway'] as const;
export type ConfigurationName = (typeof CONFIGURATIONS)[number];

export interface RunFigures {
  rps: number;
  /** CPU time the server under test spent per answered request, in µs: robust to a shared machine's noise. */
  cpuMicrosPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface ConfigurationFigures {
  rps: Spread;
  p50Ms: number;
  p99Ms: number;
  p99MsRange: { min: number; max: number };
  cpuMicrosPerRequest: number;
  errors: number;
  runs: RunFigures[];
}

export type MutationFigures = Record<ConfigurationName, ConfigurationFigures> & {
  concurrency: number;
  durationS: number;
  runs: number;
  sessions: number;
  ratios: {
    gatewayToFloorRps: number;
    gatewayToFloorP99: number;
    gatewayToPeerRps: number;
    gatewayToPeerP99: number;
    /** Server CPU per request, gateway ÷ floor: the same comparison, less sensitive to a busy machine. */
    gatewayToFloorCpuPerRequest: number;
    gatewayToPeerCpuPerRequest: number;
  };
};

interface LoadTarget {
  /** The process that serves it, whose CPU time is read around each run. */
  server: BenchChild;
  url: string;
  headers: Record<string, string>;
  body(sessionId: string): string;
  verify(body: string): boolean;
}

/** A GraphQL server under test (floor, peer or gateway), loaded with the benchmark's mutation. */
export const graphqlTarget = (server: BenchChild): LoadTarget => ({
  server,
  url: server.url,
  headers: GRAPHQL_HEADERS,
  body: graphqlBody,
  verify: (body) => body.includes('"requestCluster":"FULFILLED"') && !body.includes('"errors"'),
});

export function loadTargets(emulator: BenchChild, servers: Record<Exclude<ConfigurationName, 'direct'>, BenchChild>): Record<ConfigurationName, LoadTarget> {
  return {
    direct: {
      server: emulator,
      url: `${emulator.url}/titles/${TITLE_ID}/clusters`,
      headers: UPSTREAM_HEADERS,
      body: upstreamBody,
      verify: (body) => body.includes('"fulfillmentState":"Fulfilled"'),
    },
    floor: graphqlTarget(servers.floor),
    peer: graphqlTarget(servers.peer),
    gateway: graphqlTarget(servers.gateway),
  };
}

/** Has the emulator fulfil every session once, so that measured requests only read its state. */
export async function prefulfilSessions(emulatorUrl: string, sessions: number): Promise<void> {
  const pool = new Pool(emulatorUrl, { connections: 16 });
  try {
    const ids = Array.from({ length: sessions }, (_, i) => benchSessionId(i));
    for (let start = 0; start < ids.length; start += 64) {
      await Promise.all(
        ids.slice(start, start + 64).map(async (sessionId, offset) => {
          const headers = { ...UPSTREAM_HEADERS, authorization: authorizationFor(start + offset) };
          const response = await pool.request({ method: 'POST', path: `/titles/${TITLE_ID}/clusters`, headers, body: upstreamBody(sessionId) });
          const text = await response.body.text();
          if (!text.includes('Fulfilled')) throw new Error(`the emulator did not fulfil ${sessionId}: ${response.statusCode} ${text}`);
        }),
      );
    }
  } finally {
    await pool.close();
  }
}

export async function load(target: LoadTarget, plan: MutationPlan, durationS: number): Promise<RunFigures> {
  const sessionIds = Array.from({ length: plan.sessions }, (_, i) => benchSessionId(i));
  let next = 0;
  const cpuBefore = await target.server.call('cpuMicros');
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    connections: plan.concurrency,
    duration: durationS,
    headers: target.headers,
    requests: [
      {
        setupRequest: (request) => {
          const index = next++ % sessionIds.length;
          request.body = target.body(sessionIds[index]!);
          request.headers = { ...target.headers, authorization: authorizationFor(index) };
          return request;
        },
      },
    ],
    verifyBody: (body) => target.verify(String(body ?? '')),
  });
  const cpuAfter = await target.server.call('cpuMicros');
  const answered = result['2xx'] + result.non2xx;
  return {
    rps: round(answered / result.duration, 1),
    cpuMicrosPerRequest: Math.round((cpuAfter - cpuBefore) / Math.max(1, answered)),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
  };
}

export async function measureMutations(
  plan: MutationPlan,
  targets: Record<ConfigurationName, LoadTarget>,
  progress: (line: string) => void = () => {},
): Promise<MutationFigures> {
  for (const name of CONFIGURATIONS) {
    progress(`  warm-up ${name} (${plan.warmupS} s, not recorded)`);
    await load(targets[name], plan, plan.warmupS);
  }
  const runs: Record<ConfigurationName, RunFigures[]> = { direct: [], floor: [], peer: [], gateway: [] };
  for (let round_ = 0; round_ < plan.runs; round_ += 1) {
    const order = CONFIGURATIONS.map((_, i) => CONFIGURATIONS[(i + round_) % CONFIGURATIONS.length]!);
    for (const name of order) {
      const figures = await load(targets[name], plan, plan.durationS);
      runs[name].push(figures);
      progress(`  run ${round_ + 1}/${plan.runs} ${name.padEnd(7)} ${figures.rps} req/s  p50 ${figures.p50Ms} ms  p99 ${figures.p99Ms} ms  ${figures.cpuMicrosPerRequest} µs CPU/req  errors ${figures.errors}`);
    }
  }
  const summarise = (list: RunFigures[]): ConfigurationFigures => ({
    rps: spread(list.map((r) => r.rps)),
    p50Ms: median(list.map((r) => r.p50Ms)),
    p99Ms: median(list.map((r) => r.p99Ms)),
    p99MsRange: { min: Math.min(...list.map((r) => r.p99Ms)), max: Math.max(...list.map((r) => r.p99Ms)) },
    cpuMicrosPerRequest: median(list.map((r) => r.cpuMicrosPerRequest)),
    errors: list.reduce((sum, r) => sum + r.errors, 0),
    runs: list,
  });
  const direct = summarise(runs.direct);
  const floor = summarise(runs.floor);
  const peer = summarise(runs.peer);
  const gateway = summarise(runs.gateway);
  return {
    concurrency: plan.concurrency,
    durationS: plan.durationS,
    runs: plan.runs,
    sessions: plan.sessions,
    direct,
    floor,
    peer,
    gateway,
    ratios: {
      gatewayToFloorRps: round(gateway.rps.median / floor.rps.median, 3),
      gatewayToFloorP99: round(gateway.p99Ms / floor.p99Ms, 3),
      gatewayToPeerRps: round(gateway.rps.median / peer.rps.median, 3),
      gatewayToPeerP99: round(gateway.p99Ms / peer.p99Ms, 3),
      gatewayToFloorCpuPerRequest: round(gateway.cpuMicrosPerRequest / floor.cpuMicrosPerRequest, 3),
      gatewayToPeerCpuPerRequest: round(gateway.cpuMicrosPerRequest / peer.cpuMicrosPerRequest, 3),
    },
  };
}
