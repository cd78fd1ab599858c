/**
 * The gateway's own Prometheus metrics (`gsms_*`), in a registry of its own rather than prom-client's
 * global one, so several gateways in one process (tests, benchmarks) never collide.
 *
 * Counters and histograms move when something happens (an upstream attempt, a retry, a poll); gauges that
 * describe state (pollers, sessions by state) are read when Prometheus scrapes, so they cannot drift. Those
 * moved on every poll and upstream attempt are tallied (tallied-metrics.ts): a number added per event.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterRegistry } from '../../clusters/registry.js';
import type { GsmsClientOptions } from '../../gsms/client.js';
import type { ClusterPollerOptions } from '../../clusters/poller.js';
import type { FulfillmentState } from '../../gsms/wire.js';
import { TalliedHistogram, talliedCounter, type CounterTally, type HistogramTally } from './tallied-metrics.js';

const STATES: readonly FulfillmentState[] = ['QUEUED', 'FULFILLED', 'ABORTED'];

/** Upstream latency: GSMS answers in tens of milliseconds, a slow try runs into the request timeout (10 s). */
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Poll lag: timers fire a few ms late on a healthy process; seconds of lag mean an overloaded one. */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Passed to `createGsmsClient({ observer })`. */
  readonly upstreamObserver: NonNullable<GsmsClientOptions['observer']>;
  /** Passed to `new ClusterPoller({ observer })`. */
  readonly pollObserver: NonNullable<ClusterPollerOptions['observer']>;
  readonly openSubscriptions: Gauge;
  /** Subscriptions asked for, by outcome: `streaming` (a stream opened) or `refused` (answered with errors). */
  readonly subscriptionsStarted: Counter<'outcome'>;
  readonly webSocketConnections: Gauge;
  /** Where the scrape-time gauges read pollers and sessions; set once the services exist. */
  observeState(source: StateSource): void;
}

export interface StateSource {
  poller: { readonly activeCount: number };
  registry: Pick<ClusterRegistry, 'countByState'>;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  let stateSource: StateSource | undefined;
  // process_* and nodejs_* (CPU, memory, event-loop lag, GC): what an operator checks first. The lag is
  // sampled every 100 ms, not prom-client's 10 ms: a 10 ms timer wakes an idle process 100 times a second,
  // about 10 ms of CPU a second on this machine, which every instance pays whether it polls or not.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });

  const upstreamRequests = talliedCounter({
    name: 'gsms_upstream_requests_total',
    help: 'HTTP attempts to GSMS, by answer status ("error" when there was no answer) and attempt number (1 = first try).',
    labelNames: ['status', 'attempt'] as const,
    registers,
  });
  const upstreamDuration = new TalliedHistogram({
    name: 'gsms_upstream_request_duration_seconds',
    help: 'Time from sending one attempt to GSMS until its answer started (or it failed), by status.',
    labelNames: ['status'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers,
  });
  const attemptTallies = new Map<number, { requests: CounterTally; duration: HistogramTally }>();
  const tallyAttempts = (key: number, status: string, attempt: string) => {
    const tallies = { requests: upstreamRequests.tally(key, () => ({ status, attempt })), duration: upstreamDuration.tally(status, () => ({ status })) };
    attemptTallies.set(key, tallies);
    return tallies;
  };
  const upstreamRetries = new Counter({
    name: 'gsms_upstream_retries_total',
    help: 'Retries scheduled after a failed attempt, by reason (a retryable status or a network error code).',
    labelNames: ['reason'] as const,
    registers,
  });
  const polls = talliedCounter({
    name: 'gsms_polls_total',
    help: 'Polls of queued sessions, by outcome: "changed" (state or server changed), "unchanged", or "error".',
    labelNames: ['outcome'] as const,
    registers,
  });
  const pollsChanged = polls.tally('changed', () => ({ outcome: 'changed' }));
  const pollsUnchanged = polls.tally('unchanged', () => ({ outcome: 'unchanged' }));
  const pollErrors = polls.tally('error', () => ({ outcome: 'error' }));
  const pollLag = new TalliedHistogram({
    name: 'gsms_poll_lag_seconds',
    help: 'How long after the advised poll time each poll went out (event-loop or scheduling delay).',
    buckets: LAG_BUCKETS,
    registers,
  }).tally('', () => ({}));
  const openSubscriptions = new Gauge({
    name: 'gsms_open_subscriptions',
    help: 'GraphQL subscriptions streaming now, over SSE and graphql-ws.',
    registers,
  });
  const subscriptionsStarted = new Counter({
    name: 'gsms_subscriptions_total',
    help: 'Subscriptions asked for, over SSE and graphql-ws, by outcome: streaming, or refused with errors.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const webSocketConnections = new Gauge({
    name: 'gsms_websocket_connections',
    help: 'Open WebSocket connections (graphql-ws).',
    registers,
  });
  new Gauge({
    name: 'gsms_active_pollers',
    help: 'Poll loops running in this instance (one per queued session it watches).',
    registers,
    collect() {
      this.set(stateSource?.poller.activeCount ?? 0);
    },
  });
  new Gauge({
    name: 'gsms_sessions',
    help: 'Sessions this gateway has requested and still remembers, by fulfillment state.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      if (!stateSource) return;
      let counts;
      try {
        counts = await stateSource.registry.countByState();
      } catch {
        // The registry is unreachable (Redis down): keep the last counts rather than fail the whole scrape,
        // which is when an operator needs the other metrics most. /ready reports the outage.
        return;
      }
      // Every state, zeros included, so a dashboard shows 0 rather than "no data".
      for (const state of STATES) this.set({ state }, counts[state]);
    },
  });

  return {
    registry,
    openSubscriptions,
    subscriptionsStarted,
    webSocketConnections,
    upstreamObserver: {
      onAttempt({ status, attempt, durationMs }) {
        // A number for the key: label strings are made once per status and attempt, not per attempt made.
        const key = (status ?? 0) * 1000 + attempt;
        const tallies = attemptTallies.get(key) ?? tallyAttempts(key, status === null ? 'error' : String(status), String(attempt));
        tallies.requests.inc();
        tallies.duration.observeMs(durationMs);
      },
      onRetry({ reason }) {
        upstreamRetries.inc({ reason });
      },
    },
    pollObserver: {
      onPoll({ lagMs, ok, changed }) {
        (!ok ? pollErrors : changed ? pollsChanged : pollsUnchanged).inc();
        pollLag.observeMs(lagMs);
      },
    },
    observeState(source) {
      stateSource = source;
    },
  };
}
