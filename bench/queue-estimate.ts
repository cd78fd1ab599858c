/**
 * Queue position and estimated wait against what really happens, on the emulator. One title, capacity 4,
 * clusters living 3 s; 40 sessions requested at once, then 2 a second for 30 s. Each queued session is
 * followed with `clusterStatus { state queuePosition estimatedWaitMs hostName }` from right after its request.
 *
 * Figures:
 * - relative error, per session that waited: |estimate − actual| / actual, where the estimate is the first
 *   non-null `estimatedWaitMs` the session was shown (at its request for every session queued once the title
 *   had shown 4 fulfilments; for the first burst, at the first poll after that) and actual is the time from
 *   that event to its FULFILLED event; median and p90;
 * - orderViolations, which must be 0: snapshots of `clusters(state: QUEUED, orderBy: QUEUE_POSITION)` taken
 *   every 250 ms must show positions 1, 2, … in the emulator's FIFO order (each session's first Queued answer
 *   in the emulator's log), the emulator must serve them in that order (the allocation number in the host
 *   name), and no subscriber may see its position go up. Each distinct offending pair or event counts once.
 *
 * `npx tsx bench/queue-estimate.ts [--quick] [--redis] [--poll-interval=ms]` runs this part alone and prints its
 * figures as JSON (`--redis`: the gateway keeps its state in Redis at REDIS_URL or 127.0.0.1:6379, under a
 * private prefix; `--poll-interval`: the interval the emulator advises, 250 ms by default; `--record`: also
 * write the figures under `queueEstimate` in bench/results.json, beside the last full run's other parts).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import { request } from 'undici';
import WebSocket from 'ws';
import { startEmulator, type RunningEmulator } from '../src/gsms/emulator/server.js';
import { buildApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/logger.js';
import { deleteKeys } from '../test/support/redis.js';
import { FULL_PLAN, QUICK_PLAN } from './plan.js';
import { withQueueEstimate, type BenchResults } from './report.js';
import { median, percentile, round } from './stats.js';

export interface QueueEstimatePlan {
  /** Sessions requested at once at the start. */
  burst: number;
  /** New sessions a second after the burst, evenly spread. */
  perSecond: number;
  durationS: number;
  capacity: number;
  clusterLifetimeMs: number;
  /** The poll interval the emulator advises (how soon the gateway sees a fulfilment). */
  pollIntervalMs: number;
  /** The gateway's Redis variables (REDIS_URL or REDIS_CLUSTER_NODES) for shared state; absent: in memory. */
  redisEnv?: Record<string, string>;
  /** Return each session's sample too (`--details`), to see where the errors come from. */
  details?: boolean;
}

export interface QueueEstimateFigures {
  /** Sessions that waited and were given an estimate (the sample of the two errors). */
  sessions: number;
  medianRelativeError: number;
  p90RelativeError: number;
  orderViolations: number;
  /** Sessions requested, and those that were queued. */
  requested: number;
  queued: number;
  /** Of `sessions`, those whose estimate came with their request (not at a later poll). */
  estimatedAtRequest: number;
  /** The same errors over those alone. */
  atRequest: { medianRelativeError: number; p90RelativeError: number };
  /** Where the violations came from. */
  violations: { positionsNotConsecutive: number; notInFifoOrder: number; servedOutOfOrder: number; positionWentUp: number };
  snapshots: number;
  pollIntervalMs: number;
  mode: 'memory' | 'redis';
  durationMs: number;
  /** With `details`: position and estimate shown, real wait, error, and whether it came with the request. */
  samples?: { position: number; estimateMs: number; actualMs: number; error: number; atRequest: boolean }[];
  /** Set when recorded alone (`--record`) into an earlier full run's results. */
  measuredAt?: string;
}

const TITLE = '1234567890';
/** Each session is a different lobby's player (one identity's requests are rate-limited); an operator follows them all. */
const playerAuth = (index: number) => `XBL3.0 x=queue-bench-${index};token`;
const OPERATOR_KEY = `queue-bench-${randomUUID()}`;
const OPERATOR = { 'x-api-key': OPERATOR_KEY };
const FOLLOW = `subscription Follow($sessionId: String!) { clusterStatus(sessionId: $sessionId) { state queuePosition estimatedWaitMs hostName } }`;
const REQUEST = `mutation Request($titleId: ID!, $sessionId: String!) { requestCluster(titleId: $titleId, sessionId: $sessionId) }`;
const SNAPSHOT = `query Line($titleId: ID) { clusters(titleId: $titleId, state: QUEUED, orderBy: QUEUE_POSITION) { sessionId queuePosition } }`;

interface Shown {
  at: number;
  state: string;
  queuePosition: number | null;
  estimatedWaitMs: number | null;
  hostName: string | null;
}

interface Followed {
  sessionId: string;
  requestedState: string;
  events: Shown[];
}

async function post<T>(url: string, query: string, variables: Record<string, unknown>, credential: Record<string, string>): Promise<T> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...credential },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.body.json()) as { data?: T; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function follow(client: Client, sessionId: string, into: Shown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    client.subscribe<{ clusterStatus: Omit<Shown, 'at'> }>(
      { query: FOLLOW, variables: { sessionId } },
      {
        next: (result) => {
          if (result.errors) return reject(new Error(JSON.stringify(result.errors)));
          into.push({ at: performance.now(), ...result.data!.clusterStatus });
        },
        error: reject,
        complete: resolve,
      },
    );
  });
}

/** The emulator's allocation number, from the host name it gives (`gs-<title>-<n>.emulator.local`). */
function allocationOf(hostName: string | null): number {
  const match = /-(\d+)\.emulator\.local$/.exec(hostName ?? '');
  return match ? Number(match[1]) : Number.NaN;
}

export async function measureQueueEstimate(plan: QueueEstimatePlan, progress: (line: string) => void = () => {}): Promise<QueueEstimateFigures> {
  const started = performance.now();
  const emulator: RunningEmulator = await startEmulator({ capacity: plan.capacity, clusterLifetimeMs: plan.clusterLifetimeMs, pollIntervalMs: plan.pollIntervalMs });
  const prefix = `bench:queue:${randomUUID().slice(0, 8)}:`;
  const env: Record<string, string> = {
    LOG_LEVEL: 'silent',
    GATEWAY_OPERATOR_KEY_HASHES: createHash('sha256').update(OPERATOR_KEY).digest('hex'),
    ...(plan.redisEnv ? { ...plan.redisEnv, REDIS_KEY_PREFIX: prefix, GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex') } : {}),
  };
  const config = loadConfig(env);
  const app = buildApp(config, emulator.url, createLogger(config.logLevel));
  const base = await app.start(0, '127.0.0.1');
  const url = `${base}/graphql`;
  const client = createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { apiKey: OPERATOR_KEY }, lazy: false });
  const followed: Followed[] = [];
  const follows: Promise<void>[] = [];
  const snapshots: { sessionId: string; queuePosition: number | null }[][] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      snapshots.push((await post<{ clusters: { sessionId: string; queuePosition: number | null }[] }>(url, SNAPSHOT, { titleId: TITLE }, OPERATOR)).clusters);
      await sleep(250);
    }
  })();

  let requests = 0;
  const requestOne = async (name: string) => {
    const credential = { authorization: playerAuth(requests++) };
    const sessionId = `/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/sessions/${name}`;
    const { requestCluster } = await post<{ requestCluster: string }>(url, REQUEST, { titleId: TITLE, sessionId }, credential);
    const entry: Followed = { sessionId, requestedState: requestCluster, events: [] };
    followed.push(entry);
    if (requestCluster === 'QUEUED') follows.push(follow(client, sessionId, entry.events));
  };

  try {
    const run = randomUUID().slice(0, 6);
    await Promise.all(Array.from({ length: plan.burst }, (_, i) => requestOne(`q${run}-b${i}`)));
    progress(`queue estimate: ${plan.burst} requested at once`);
    const gapMs = 1_000 / plan.perSecond;
    const stream = plan.perSecond * plan.durationS;
    const t0 = performance.now();
    const later: Promise<void>[] = [];
    for (let i = 0; i < stream; i += 1) {
      await sleep(Math.max(0, t0 + (i + 1) * gapMs - performance.now()));
      later.push(requestOne(`q${run}-s${i}`));
    }
    await Promise.all(later);
    progress(`queue estimate: ${stream} more requested over ${plan.durationS} s; waiting for the line to drain`);
    // Every follow ends with FULFILLED; bounded by the time the whole line needs, with room to spare.
    const drainMs = ((plan.burst + stream) / plan.capacity) * plan.clusterLifetimeMs * 2 + 30_000;
    const drained = await Promise.race([Promise.all(follows).then(() => true), sleep(drainMs).then(() => false)]);
    if (!drained) throw new Error(`queue estimate: the line did not drain within ${drainMs} ms`);
  } finally {
    sampling = false;
    await sampler.catch(() => {});
    await client.dispose();
    await app.stop();
    await emulator.close();
    if (plan.redisEnv?.REDIS_URL) await deleteKeys(plan.redisEnv.REDIS_URL, prefix);
  }

  // The emulator's FIFO: the order of each session's first Queued answer.
  const fifo = new Map<string, number>();
  for (const record of emulator.requests) {
    if (record.state === 'QUEUED' && record.sessionKey && !fifo.has(record.sessionKey.toLowerCase())) fifo.set(record.sessionKey.toLowerCase(), fifo.size);
  }
  const fifoOf = (sessionId: string) => fifo.get(sessionId.toLowerCase()) ?? Number.NaN;
  const queued = followed.filter((f) => f.requestedState === 'QUEUED');
  const allocation = new Map(queued.map((f) => [f.sessionId, allocationOf(f.events.at(-1)?.hostName ?? null)]));

  const violations = { positionsNotConsecutive: 0, notInFifoOrder: 0, servedOutOfOrder: 0, positionWentUp: 0 };
  const badPairs = new Set<string>();
  for (const snapshot of snapshots) {
    const placed = snapshot.filter((s) => s.queuePosition !== null);
    if (placed.some((s, i) => s.queuePosition !== i + 1)) violations.positionsNotConsecutive += 1;
    for (let i = 1; i < placed.length; i += 1) {
      const [ahead, behind] = [placed[i - 1]!.sessionId, placed[i]!.sessionId];
      const pair = `${ahead} ${behind}`;
      if (badPairs.has(pair)) continue;
      if (!(fifoOf(ahead) < fifoOf(behind))) (badPairs.add(pair), (violations.notInFifoOrder += 1));
      else if (!((allocation.get(ahead) ?? Number.NaN) < (allocation.get(behind) ?? Number.NaN))) (badPairs.add(pair), (violations.servedOutOfOrder += 1));
    }
  }
  const byFifo = [...queued].sort((a, b) => fifoOf(a.sessionId) - fifoOf(b.sessionId));
  for (let i = 1; i < byFifo.length; i += 1) {
    if (!(allocation.get(byFifo[i - 1]!.sessionId)! < allocation.get(byFifo[i]!.sessionId)!)) violations.servedOutOfOrder += 1;
  }
  for (const f of queued) {
    const positions = f.events.map((e) => e.queuePosition).filter((p): p is number => p !== null);
    for (let i = 1; i < positions.length; i += 1) if (positions[i]! > positions[i - 1]!) violations.positionWentUp += 1;
  }

  const errors: number[] = [];
  const errorsAtRequest: number[] = [];
  const samples: NonNullable<QueueEstimateFigures['samples']> = [];
  for (const f of queued) {
    const index = f.events.findIndex((e) => e.state === 'QUEUED' && e.estimatedWaitMs !== null);
    const fulfilled = f.events.find((e) => e.state === 'FULFILLED');
    if (index < 0 || !fulfilled) continue;
    const shown = f.events[index]!;
    const actual = fulfilled.at - shown.at;
    if (actual <= 0) continue;
    const error = Math.abs(shown.estimatedWaitMs! - actual) / actual;
    errors.push(error);
    if (index === 0) errorsAtRequest.push(error);
    samples.push({ position: shown.queuePosition ?? 0, estimateMs: shown.estimatedWaitMs!, actualMs: Math.round(actual), error: round(error, 3), atRequest: index === 0 });
  }
  const orderViolations = violations.positionsNotConsecutive + violations.notInFifoOrder + violations.servedOutOfOrder + violations.positionWentUp;
  return {
    sessions: errors.length,
    medianRelativeError: round(median(errors), 3),
    p90RelativeError: round(percentile(errors, 90), 3),
    orderViolations,
    requested: followed.length,
    queued: queued.length,
    estimatedAtRequest: errorsAtRequest.length,
    atRequest: { medianRelativeError: round(median(errorsAtRequest), 3), p90RelativeError: round(percentile(errorsAtRequest, 90), 3) },
    violations,
    snapshots: snapshots.length,
    pollIntervalMs: plan.pollIntervalMs,
    mode: plan.redisEnv ? 'redis' : 'memory',
    durationMs: Math.round(performance.now() - started),
    ...(plan.details ? { samples } : {}),
  };
}

/** Whether the figures meet the issue's targets. */
export function queueEstimateTargets(figures: Pick<QueueEstimateFigures, 'medianRelativeError' | 'p90RelativeError' | 'orderViolations'>) {
  return {
    queueEstimateMedian: figures.medianRelativeError <= 0.2,
    queueEstimateP90: figures.p90RelativeError <= 0.5,
    queueOrder: figures.orderViolations === 0,
  };
}

/** The printed table's lines for this part. */
export function formatQueueEstimate(f: QueueEstimateFigures): string {
  return [
    `Queue position and estimated wait (${f.mode}; poll interval ${f.pollIntervalMs} ms): ${f.requested} sessions requested, ${f.queued} queued, ${f.sessions} given an estimate (${f.estimatedAtRequest} with their request)`,
    `  |estimate − actual| / actual: median ${f.medianRelativeError}, p90 ${f.p90RelativeError} (with the request only: median ${f.atRequest.medianRelativeError}, p90 ${f.atRequest.p90RelativeError})`,
    `  order violations: ${f.orderViolations} over ${f.snapshots} snapshots (${Object.entries(f.violations).map(([k, v]) => `${k} ${v}`).join(', ')})`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const redisEnv = process.argv.includes('--redis') ? { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } : undefined;
  const interval = process.argv.find((arg) => arg.startsWith('--poll-interval='));
  const plan = {
    ...(quick ? QUICK_PLAN : FULL_PLAN).queueEstimate,
    ...(interval ? { pollIntervalMs: Number(interval.split('=')[1]) } : {}),
    redisEnv,
    details: process.argv.includes('--details'),
  };
  const figures = await measureQueueEstimate(plan, (line) => console.error(line));
  console.log(JSON.stringify(figures, null, 2));
  if (process.argv.includes('--record')) {
    // Part 5 alone into the last full run's results (the other parts stay as that run measured them).
    const path = fileURLToPath(new URL('./results.json', import.meta.url));
    const results = JSON.parse(await readFile(path, 'utf8')) as BenchResults;
    await writeFile(path, `${JSON.stringify(withQueueEstimate(results, { ...figures, measuredAt: new Date().toISOString() }), null, 2)}\n`);
    console.error(`recorded under queueEstimate in ${path}`);
  }
  process.exit(0);
}
