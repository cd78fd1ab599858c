/**
 * `npm run soak`: a bounded load soak on loopback. The emulator runs here, the gateway in a child process
 * (scripts/soak-gateway.ts) so its heap is measured alone. While `connections × subscriptions` graphql-ws
 * subscriptions stay open on queued sessions, `rate` requestCluster mutations a second go out for
 * `duration` seconds, each a new session on its own title. Then capacity frees and every subscriber must
 * receive FULFILLED. Prints requests, errors, p50/p99 latency, and the gateway's heap before, right after
 * and after settling (records older than GSMS_RECORD_RETENTION_MS swept, forced GC).
 *
 *   npm run soak                      # 60 s, 200 mutations/s, 20 connections × 100 subscriptions
 *   npm run soak -- --quick           # about 5 s of the same, smaller
 *   npm run soak -- --duration 30 --rate 100 --connections 10 --subscriptions 50
 *
 * Exits 1 when any request or subscription failed. Production defaults for every limit: mutations spread
 * over `identities` callers so none passes the per-identity rate limit, and the subscriptions fit in
 * WS_MAX_SUBSCRIPTIONS_PER_CONNECTION (100).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { startEmulator } from '../src/gsms/emulator/server.js';

export interface SoakOptions {
  durationS: number;
  /** Mutations a second. */
  rate: number;
  /** graphql-ws connections, one identity each. */
  connections: number;
  /** Subscriptions per connection. */
  subscriptions: number;
  /** Queued sessions per connection; its subscriptions are spread over them. */
  sessionsPerConnection: number;
  /** Distinct callers the mutations rotate over. */
  identities: number;
  /** The poll interval the emulator advises (how often each queued session is polled). */
  pollIntervalMs: number;
  /**
   * The gateway's GSMS_RECORD_RETENTION_MS: how soon finished sessions' records may go, so the heap can be
   * seen to come back. Shorter than production's (1 h) and than the watch time, which is safe here only
   * because GSMS stays up and every queued record is updated each poll interval, well within it.
   */
  retentionMs: number;
  logLevel: string;
  /** Progress lines on stderr. */
  verbose: boolean;
}

export const FULL: SoakOptions = {
  durationS: 60,
  rate: 200,
  connections: 20,
  subscriptions: 100,
  sessionsPerConnection: 10,
  identities: 1_000,
  pollIntervalMs: 1_000,
  retentionMs: 10_000,
  logLevel: 'warn',
  verbose: true,
};

export const QUICK: SoakOptions = { ...FULL, durationS: 5, rate: 50, connections: 5, subscriptions: 20, sessionsPerConnection: 5, identities: 200, pollIntervalMs: 500, retentionMs: 2_000 };

export interface SoakReport {
  options: SoakOptions;
  requests: number;
  errors: number;
  /** Error codes or statuses seen, with counts. */
  errorKinds: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  subscriptions: { opened: number; fulfilled: number; failed: number };
  heapMb: { before: number; afterLoad: number; afterSettle: number };
  rssMb: { before: number; afterSettle: number };
  /** Session records the gateway holds. */
  records: { afterLoad: number; afterSettle: number };
  /** The gateway process during the load (subscriptions, mutations, release): event-loop delay and CPU share of one core. */
  gatewayDuringLoad: { loopDelayP99Ms: number; loopDelayMaxMs: number; cpuPercent: number };
  /** This process (load generator, emulator, subscribers) during the mutations: a late loop here inflates latencies. */
  driverLoopDelayMs: { p99: number; max: number };
  achievedRate: number;
}

const SUBSCRIPTION_TITLE = '1';
const FIRST_MUTATION_TITLE = 1_000_000;
const REQUEST = 'mutation ($t: ID!, $s: String!) { requestCluster(titleId: $t, sessionId: $s) }';
const FOLLOW = 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }';

const sessionPath = (name: string) => `/serviceconfigs/00000000-0000-4000-8000-00000000500a/sessiontemplates/soak/sessions/${name}`;
const auth = (identity: string) => `XBL3.0 x=${identity};soak-token-${identity}`;
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = (line: string) => options.verbose && process.stderr.write(`soak: ${line}\n`);
  // Capacity 1 per title: the subscription title is held by one session, so its others stay queued; each
  // mutation uses a title of its own and is fulfilled at once. Lifetimes outlast the run.
  const emulator = await startEmulator({ capacity: 1, clusterLifetimeMs: (options.durationS + 600) * 1000, pollIntervalMs: options.pollIntervalMs });
  const gateway = await startGatewayProcess(emulator.url, options);
  const pool = new Pool(gateway.url, { connections: 64 });
  const clients: Client[] = [];
  try {
    const post = async (authorization: string, variables: Record<string, unknown>) => {
      const response = await pool.request({
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: REQUEST, variables }),
      });
      const body = (await response.body.json()) as { data?: { requestCluster?: string } | null; errors?: { extensions?: { code?: string } }[] };
      return { status: response.statusCode, body };
    };

    // Warm up (JIT, lazy modules, pools), then the baseline heap.
    await post(auth('soak-holder'), { t: SUBSCRIPTION_TITLE, s: sessionPath('holder') });
    for (let i = 0; i < 20; i += 1) await post(auth(`soak-warm-${i}`), { t: String(FIRST_MUTATION_TITLE - 1 - i), s: sessionPath(`warm-${i}`) });
    const before = await gateway.heap();
    const loadStartedAt = performance.now();
    log(`gateway heap before: ${mb(before.heapUsed)} MB`);

    // Subscriptions: each connection's identity requests its queued sessions, then follows them.
    let opened = 0;
    let fulfilled = 0;
    let failed = 0;
    const follows: Promise<void>[] = [];
    let allOpened!: () => void;
    const expected = options.connections * options.subscriptions;
    const subscriptionsOpen = new Promise<void>((resolve) => (allOpened = resolve));
    for (let c = 0; c < options.connections; c += 1) {
      const identity = `soak-sub-${c}`;
      const sessions = Array.from({ length: options.sessionsPerConnection }, (_, i) => sessionPath(`sub-${c}-${i}`));
      for (const s of sessions) {
        const { body } = await post(auth(identity), { t: SUBSCRIPTION_TITLE, s });
        if (body.data?.requestCluster !== 'QUEUED') throw new Error(`setup: expected QUEUED, got ${JSON.stringify(body)}`);
      }
      const client = createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: auth(identity) } });
      clients.push(client);
      for (let i = 0; i < options.subscriptions; i += 1) {
        const s = sessions[i % sessions.length];
        follows.push(
          new Promise<void>((resolve) => {
            let last: string | undefined;
            let counted = false;
            client.subscribe<{ clusterStatus: { state: string } }>(
              { query: FOLLOW, variables: { s } },
              {
                next: (result) => {
                  if (result.errors) failed += 1;
                  last = result.data?.clusterStatus.state;
                  if (!counted && last === 'QUEUED') {
                    counted = true;
                    if (++opened === expected) allOpened();
                  }
                },
                error: () => {
                  failed += 1;
                  resolve();
                },
                complete: () => {
                  if (last === 'FULFILLED') fulfilled += 1;
                  else failed += 1;
                  resolve();
                },
              },
            );
          }),
        );
      }
    }
    await withTimeout(subscriptionsOpen, 60_000, () => `only ${opened} of ${expected} subscriptions opened`);
    log(`${opened} subscriptions open on ${options.connections} connections`);

    // The load: open-loop, `rate` a second in 20 ms ticks, each a new session on its own title.
    const latency = createHistogram();
    const errorKinds: Record<string, number> = {};
    let requests = 0;
    let errors = 0;
    const inFlight = new Set<Promise<void>>();
    const driverLoop = monitorEventLoopDelay({ resolution: 10 });
    driverLoop.enable();
    const startedAt = performance.now();
    const endsAt = startedAt + options.durationS * 1000;
    let due = 0;
    while (performance.now() < endsAt) {
      const elapsedS = (performance.now() - startedAt) / 1000;
      for (; due < Math.floor(elapsedS * options.rate); due += 1) {
        const n = due;
        const sentAt = performance.now();
        requests += 1;
        const call = post(auth(`soak-caller-${n % options.identities}`), { t: String(FIRST_MUTATION_TITLE + n), s: sessionPath(`load-${n}`) })
          .then(({ status, body }) => {
            latency.record(Math.max(1, Math.round((performance.now() - sentAt) * 1e6)));
            const state = body.data?.requestCluster;
            if (status !== 200 || body.errors || (state !== 'FULFILLED' && state !== 'QUEUED')) {
              errors += 1;
              const kind = body.errors?.[0]?.extensions?.code ?? `HTTP ${status}`;
              errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
            }
          })
          .catch((error: unknown) => {
            errors += 1;
            const kind = (error as { code?: string }).code ?? 'client error';
            errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
          })
          .finally(() => inFlight.delete(call));
        inFlight.add(call);
      }
      if (options.verbose && due > 0 && due % (options.rate * 10) === 0) log(`${due} mutations sent, ${errors} errors`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(inFlight);
    driverLoop.disable();
    const loadSeconds = (performance.now() - startedAt) / 1000;
    log(`${requests} mutations in ${loadSeconds.toFixed(1)} s, ${errors} errors`);

    // Capacity frees: every queued session is fulfilled at its next poll, and every subscriber must see it.
    emulator.setCapacity(1_000_000);
    await withTimeout(Promise.all(follows), 60_000, () => `${fulfilled + failed} of ${expected} subscriptions ended`);
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    const afterLoad = await gateway.heap();
    const loadWallMs = performance.now() - loadStartedAt;
    // Settle: records older than the retention are swept (the sweep runs every retention period).
    await new Promise((resolve) => setTimeout(resolve, options.retentionMs * 2 + 1_000));
    const afterSettle = await gateway.heap();

    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return {
      options,
      requests,
      errors,
      errorKinds,
      latencyMs: { p50: ms(latency.percentile(50)), p99: ms(latency.percentile(99)), max: ms(latency.max) },
      subscriptions: { opened, fulfilled, failed },
      heapMb: { before: mb(before.heapUsed), afterLoad: mb(afterLoad.heapUsed), afterSettle: mb(afterSettle.heapUsed) },
      rssMb: { before: mb(before.rss), afterSettle: mb(afterSettle.rss) },
      records: { afterLoad: afterLoad.records, afterSettle: afterSettle.records },
      gatewayDuringLoad: {
        loopDelayP99Ms: afterLoad.loopDelay.p99,
        loopDelayMaxMs: afterLoad.loopDelay.max,
        cpuPercent: Math.round((afterLoad.cpuMs / loadWallMs) * 100),
      },
      driverLoopDelayMs: { p99: ms(driverLoop.percentile(99)), max: ms(driverLoop.max) },
      achievedRate: Math.round(requests / loadSeconds),
    };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await pool.close();
    await gateway.stop();
    await emulator.close();
  }
}

interface HeapReading {
  heapUsed: number;
  rss: number;
  records: number;
  loopDelay: { p99: number; max: number };
  cpuMs: number;
}

interface GatewayProcess {
  url: string;
  heap(): Promise<HeapReading>;
  stop(): Promise<void>;
}

async function startGatewayProcess(gsmsBaseUrl: string, options: SoakOptions): Promise<GatewayProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./soak-gateway.ts', import.meta.url)), [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, GSMS_BASE_URL: gsmsBaseUrl, LOG_LEVEL: options.logLevel, GSMS_RECORD_RETENTION_MS: String(options.retentionMs), PORT: '0', REDIS_URL: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const next = <T>(type: string) =>
    withTimeout(
      new Promise<T>((resolve, reject) => {
        const onMessage = (message: { type: string } & T) => {
          if (message.type !== type) return;
          child.off('message', onMessage);
          resolve(message);
        };
        child.on('message', onMessage);
        void exited.then(() => reject(new Error('the gateway process exited')));
      }),
      60_000,
      () => `no '${type}' from the gateway process`,
    );
  const { url } = await next<{ url: string }>('ready');
  return {
    url,
    heap: () => {
      child.send({ type: 'heap' });
      return next<HeapReading>('heap');
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      await withTimeout(exited, 30_000, () => 'the gateway process did not stop').catch(() => child.kill('SIGKILL'));
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function formatReport(report: SoakReport): string {
  const o = report.options;
  const heapDelta = Math.round((report.heapMb.afterSettle - report.heapMb.before) * 10) / 10;
  return [
    `soak: ${o.durationS} s at ${o.rate} mutations/s (achieved ${report.achievedRate}/s) with ${o.connections} × ${o.subscriptions} subscriptions on ${o.connections * o.sessionsPerConnection} queued sessions (poll ${o.pollIntervalMs} ms)`,
    `requests   ${report.requests}`,
    `errors     ${report.errors}${report.errors > 0 ? ` ${JSON.stringify(report.errorKinds)}` : ''}`,
    `latency    p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
    `subscriptions opened ${report.subscriptions.opened}, FULFILLED ${report.subscriptions.fulfilled}, failed ${report.subscriptions.failed}`,
    `gateway heap (after forced GC): before ${report.heapMb.before} MB, right after load ${report.heapMb.afterLoad} MB, after settling ${report.heapMb.afterSettle} MB (${heapDelta >= 0 ? '+' : ''}${heapDelta} MB)`,
    `gateway RSS: before ${report.rssMb.before} MB, after settling ${report.rssMb.afterSettle} MB`,
    `session records held: right after load ${report.records.afterLoad}, after settling ${report.records.afterSettle}`,
    `gateway during the run: event-loop delay p99 ${report.gatewayDuringLoad.loopDelayP99Ms} ms, max ${report.gatewayDuringLoad.loopDelayMaxMs} ms; CPU ${report.gatewayDuringLoad.cpuPercent}% of one core`,
    `load generator + emulator process during the mutations: event-loop delay p99 ${report.driverLoopDelayMs.p99} ms, max ${report.driverLoopDelayMs.max} ms`,
  ].join('\n');
}

function optionsFromArgs(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      subscriptions: { type: 'string' },
      'sessions-per-connection': { type: 'string' },
      identities: { type: 'string' },
      'poll-ms': { type: 'string' },
      'retention-ms': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const base = values.quick ? QUICK : FULL;
  const number = (value: string | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number`);
    return parsed;
  };
  return {
    ...base,
    durationS: number(values.duration, base.durationS, 'duration'),
    rate: number(values.rate, base.rate, 'rate'),
    connections: number(values.connections, base.connections, 'connections'),
    subscriptions: number(values.subscriptions, base.subscriptions, 'subscriptions'),
    sessionsPerConnection: number(values['sessions-per-connection'], base.sessionsPerConnection, 'sessions-per-connection'),
    identities: number(values.identities, base.identities, 'identities'),
    pollIntervalMs: number(values['poll-ms'], base.pollIntervalMs, 'poll-ms'),
    retentionMs: number(values['retention-ms'], base.retentionMs, 'retention-ms'),
    logLevel: values['log-level'] ?? base.logLevel,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await runSoak(optionsFromArgs(process.argv.slice(2)));
  console.log(formatReport(report));
  process.exit(report.errors > 0 || report.subscriptions.failed > 0 ? 1 : 0);
}
