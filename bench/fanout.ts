/**
 * Part 2 (and, repeated per factor, part 3): subscription fan-out in one gateway process. Sessions are
 * queued (emulator capacity 0) through the gateway, then each gets `subscribersPerSession` graphql-ws
 * subscribers spread over connections of `subscriptionsPerConnection` each, so a session's subscribers sit
 * on different sockets. Measured:
 * - memory per open subscription, read inside the gateway after forced GCs: (after − before) ÷ count,
 *   "before" being the gateway with its sessions queued and polled but no socket open;
 * - polls at the emulator over a few intervals, against one per session per interval;
 * - when capacity frees for every session at once, the spread between the first and the last subscriber
 *   of each session receiving FULFILLED (receive times taken in this process).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type Client } from 'graphql-ws';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { startChild, closeAll, type BenchChild } from './child-process.js';
import type { PollStats } from './child-protocol.js';
import type { FanoutPlan } from './plan.js';
import { percentile, round } from './stats.js';
import { AUTHORIZATION, CLUSTER_STATUS, GRAPHQL_HEADERS, benchSessionId, graphqlBody } from './workload.js';

export interface FanoutFigures {
  factor: number;
  sessions: number;
  subscribersPerSession: number;
  subscriptions: number;
  connections: number;
  pollIntervalMs: number;
  bytesPerSubscription: { rss: number; heap: number };
  /**
   * The rate each session is polled at, in polls per advised interval: the interval ÷ the mean gap between a
   * session's consecutive posts (timed at the emulator), times the share of sessions polled at all. Counting
   * posts in the window instead (`polledInWindowPerInterval`) aliases: sessions queued together are polled
   * in step, so where the window's edges fall decides whether a whole batch lands inside or just outside.
   */
  pollsPerSessionPerInterval: number;
  /** Posts counted in the window ÷ (sessions × window ÷ interval). */
  polledInWindowPerInterval: number;
  polls: PollStats;
  /** The gateway's CPU time over the poll window ÷ the polls in it, in µs: what one poll costs the process. */
  cpuMicrosPerPoll: number;
  spreadMs: { p50: number; p99: number; max: number };
  /** Subscribe to first event (QUEUED), for all subscriptions. */
  subscribeAllMs: number;
  errors: number;
}

/**
 * `snapshotDir` (BENCH_HEAP_SNAPSHOTS for bench/fanout-only.ts): the gateway writes a heap snapshot there
 * right after each memory reading, to see what a subscription is made of. Off in measured runs: writing one
 * takes seconds and doubles the process's memory for a moment.
 */
export async function measureFanout(
  plan: FanoutPlan,
  factor: number,
  progress: (line: string) => void = () => {},
  snapshotDir?: string,
): Promise<FanoutFigures> {
  const sessions = plan.sessions * factor;
  const subscriptions = sessions * plan.subscribersPerSession;
  const connections = Math.ceil(subscriptions / plan.subscriptionsPerConnection);
  const sessionIds = Array.from({ length: sessions }, (_, i) => benchSessionId(i, `fanout-${factor}x`));
  let emulator: BenchChild | undefined;
  let gateway: BenchChild | undefined;
  const clients: Client[] = [];
  try {
    emulator = await startChild('emulator', { capacity: 0, pollIntervalMs: plan.pollIntervalMs });
    gateway = await startChild('gateway', { upstreamUrl: emulator.url });

    progress(`  ${factor}×: queueing ${sessions} sessions`);
    await queueSessions(gateway.url, sessionIds);
    const polling = await gateway.call('activePollers');
    if (polling !== sessions) throw new Error(`expected ${sessions} poll loops, the gateway runs ${polling}`);
    const before = await gateway.call('memory');
    if (snapshotDir) progress(`  ${factor}×: heap snapshot ${await gateway.call('heapSnapshot', `${snapshotDir}/fanout-${factor}x-before.heapsnapshot`)}`);

    progress(`  ${factor}×: opening ${subscriptions} subscriptions over ${connections} connections`);
    const wsUrl = gateway.url.replace(/^http/, 'ws');
    // Connected a batch at a time: a thousand simultaneous handshakes overflow the listen backlog.
    for (let start = 0; start < connections; start += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, connections - start) }, () =>
        connectClient(wsUrl).then((client) => clients.push(client)),
      );
      await Promise.all(batch);
    }
    const subscribed = performance.now();
    const tracker = new FanoutTracker(sessions, plan.subscribersPerSession);
    for (let s = 0; s < sessions; s += 1) {
      for (let j = 0; j < plan.subscribersPerSession; j += 1) {
        const client = clients[(s * plan.subscribersPerSession + j) % connections]!;
        client.subscribe<{ clusterStatus: { state: string } }>(
          { query: CLUSTER_STATUS, variables: { sessionId: sessionIds[s] } },
          {
            next: (payload) => tracker.onNext(s, payload.data?.clusterStatus.state, payload.errors),
            error: (error) => tracker.onError(error),
            complete: () => {},
          },
        );
      }
    }
    await tracker.allQueued(timeoutFor(subscriptions));
    const subscribeAllMs = performance.now() - subscribed;
    const after = await gateway.call('memory');
    if (snapshotDir) progress(`  ${factor}×: heap snapshot ${await gateway.call('heapSnapshot', `${snapshotDir}/fanout-${factor}x-after.heapsnapshot`)}`);
    progress(
      `  ${factor}×: all subscribed in ${Math.round(subscribeAllMs)} ms; per subscription ` +
        `${Math.round((after.rss - before.rss) / subscriptions)} B rss, ${Math.round((after.heapUsed - before.heapUsed) / subscriptions)} B heap`,
    );

    // One interval first, so the window sees steady polling rather than the loops catching up on the time the
    // process spent setting up the subscriptions (at 16×, 160,000 of them over ~40 s).
    await sleep(plan.pollIntervalMs);
    progress(`  ${factor}×: counting polls over ${plan.pollWindowIntervals} intervals of ${plan.pollIntervalMs} ms`);
    const cpuBeforePolls = await gateway.call('cpuMicros');
    await emulator.call('openPollWindow');
    await sleep(plan.pollWindowIntervals * plan.pollIntervalMs);
    const polls = await emulator.call('closePollWindow');
    const cpuMicrosPerPoll = Math.round(((await gateway.call('cpuMicros')) - cpuBeforePolls) / Math.max(1, polls.polls));

    progress(`  ${factor}×: freeing capacity for all ${sessions} sessions at once`);
    await emulator.call('setCapacity', sessions);
    await tracker.allFulfilled(plan.pollIntervalMs * 3 + timeoutFor(subscriptions));

    const spreads = tracker.spreads();
    const expectedPerSession = polls.windowMs / plan.pollIntervalMs;
    const pollingRate = polls.meanGapMs === null ? 0 : (plan.pollIntervalMs / polls.meanGapMs) * (polls.sessionsPolled / sessions);
    return {
      factor,
      sessions,
      subscribersPerSession: plan.subscribersPerSession,
      subscriptions,
      connections,
      pollIntervalMs: plan.pollIntervalMs,
      bytesPerSubscription: {
        rss: Math.round((after.rss - before.rss) / subscriptions),
        heap: Math.round((after.heapUsed - before.heapUsed) / subscriptions),
      },
      pollsPerSessionPerInterval: round(pollingRate, 3),
      polledInWindowPerInterval: round(polls.polls / (sessions * expectedPerSession), 3),
      polls,
      cpuMicrosPerPoll,
      spreadMs: { p50: round(percentile(spreads, 50), 1), p99: round(percentile(spreads, 99), 1), max: round(Math.max(...spreads), 1) },
      subscribeAllMs: Math.round(subscribeAllMs),
      errors: tracker.errors,
    };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await closeAll([gateway, emulator]);
  }
}

const CONNECT_BATCH = 50;

/** A graphql-ws client, resolved once the server has acknowledged its connection. */
function connectClient(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client: Client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { authorization: AUTHORIZATION },
      onNonLazyError: (error) => reject(new Error(`graphql-ws connection failed: ${describeError(error)}`)),
      on: { connected: () => resolve(client) },
    });
  });
}

/** Generous bounds for a loaded 2-core machine: a hung run fails instead of hanging. */
const timeoutFor = (subscriptions: number): number => 30_000 + subscriptions * 2;

async function queueSessions(gatewayUrl: string, sessionIds: readonly string[]): Promise<void> {
  const url = new URL(gatewayUrl);
  const pool = new Pool(url.origin, { connections: 16 });
  try {
    for (let start = 0; start < sessionIds.length; start += 64) {
      await Promise.all(
        sessionIds.slice(start, start + 64).map(async (sessionId) => {
          const response = await pool.request({ method: 'POST', path: url.pathname, headers: GRAPHQL_HEADERS, body: graphqlBody(sessionId) });
          const text = await response.body.text();
          if (!text.includes('"QUEUED"')) throw new Error(`expected ${sessionId} to be QUEUED, got ${response.statusCode} ${text}`);
        }),
      );
    }
  } finally {
    await pool.close();
  }
}

/** Follows every subscription's events: who has seen QUEUED, and when each saw FULFILLED. */
class FanoutTracker {
  readonly #fulfilledAt: number[][];
  #queued = 0;
  #fulfilled = 0;
  errors = 0;
  #waiter: { until: () => boolean; resolve: () => void } | null = null;

  constructor(
    sessions: number,
    private readonly perSession: number,
  ) {
    this.#fulfilledAt = Array.from({ length: sessions }, () => []);
  }

  get #total(): number {
    return this.#fulfilledAt.length * this.perSession;
  }

  /** The first error seen, for the failure message. */
  firstError: unknown;

  onNext(session: number, state: string | undefined, errors: unknown): void {
    if (errors !== undefined || state === undefined) this.onError(errors ?? 'an event without a state');
    else if (state === 'QUEUED') this.#queued += 1;
    else if (state === 'FULFILLED') {
      this.#fulfilledAt[session]!.push(performance.now());
      this.#fulfilled += 1;
    } else this.onError(`unexpected state ${state}`);
    this.#check();
  }

  onError(error: unknown): void {
    this.firstError ??= error;
    this.errors += 1;
    this.#check();
  }

  allQueued(timeoutMs: number): Promise<void> {
    return this.#until(() => this.#queued >= this.#total, timeoutMs, () => `${this.#queued} of ${this.#total} subscriptions saw QUEUED`);
  }

  allFulfilled(timeoutMs: number): Promise<void> {
    return this.#until(() => this.#fulfilled >= this.#total, timeoutMs, () => `${this.#fulfilled} of ${this.#total} subscriptions saw FULFILLED`);
  }

  /** Per session: last subscriber's FULFILLED minus the first one's, in ms. */
  spreads(): number[] {
    return this.#fulfilledAt.map((times) => Math.max(...times) - Math.min(...times));
  }

  #check(): void {
    if (this.errors > 0 || this.#waiter?.until()) this.#waiter?.resolve();
  }

  #until(until: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (until()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error(`fan-out timed out after ${timeoutMs} ms: ${describe()}`));
      }, timeoutMs);
      this.#waiter = {
        until,
        resolve: () => {
          clearTimeout(timer);
          this.#waiter = null;
          if (this.errors > 0) reject(new Error(`fan-out: ${this.errors} subscription errors (${describe()}); first: ${describeError(this.firstError)}`));
          else resolve();
        },
      };
    });
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((e: { message?: unknown }) => String(e?.message ?? e)).join('; ');
  if (typeof error !== 'object' || error === null) return String(error);
  const { code, reason, message, type } = error as { code?: unknown; reason?: unknown; message?: unknown; type?: unknown };
  if (code !== undefined) return `socket closed ${String(code)} ${String(reason ?? '')}`;
  return String(message ?? type ?? 'unknown error');
}
