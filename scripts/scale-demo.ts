/**
 * `npm run demo:scale`: N gateway processes (1, 2, 4) on one Redis in front of one emulator, with queued
 * sessions spread over them, and what the emulator sees: polls per second against sessions and instances.
 * The point: the count is one poll per session per advised interval, however many instances there are,
 * because exactly one instance (the session's owner) polls each session.
 *
 * Redis: REDIS_URL, else 127.0.0.1:6379, else a redis-server started on a free port. Each run uses its own
 * key prefix and deletes its keys. Bounded: every phase has a fixed window, and the whole run a deadline.
 *   DEMO_INSTANCES=1,2,4  DEMO_SESSIONS=20,100  DEMO_INTERVAL_MS=500  DEMO_WINDOW_MS=4000
 */
import { BUCKET_TAGS, RedisKeyspace } from '../src/clusters/redis-keyspace.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startEmulator, type RunningEmulator } from '../src/gsms/emulator/server.js';
import { sessionPath } from '../test/support/gateway.js';
import { startGatewayProcess, stopAllGatewayProcesses, type GatewayProcess } from '../test/support/gateway-process.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../test/support/redis.js';

const list = (text: string | undefined, fallback: number[]) => (text ? text.split(',').map(Number) : fallback);
const INSTANCES = list(process.env.DEMO_INSTANCES, [1, 2, 4]);
const SESSIONS = list(process.env.DEMO_SESSIONS, [20, 100]);
const INTERVAL_MS = Number(process.env.DEMO_INTERVAL_MS ?? 500);
const WINDOW_MS = Number(process.env.DEMO_WINDOW_MS ?? 4_000);
const DEADLINE_MS = 5 * 60_000;
const REQUEST = 'mutation ($s: String!) { requestCluster(titleId: "1234567890", sessionId: $s) }';

interface Row {
  instances: number;
  sessions: number;
  pollsPerSecond: number;
  /** One poll per session per interval; the round trip and +≤10% jitter put the measured rate a little under it. */
  ceiling: number;
  minGapMs: number;
  tooSoon: number;
  leasesPerInstance: string;
}

/** Posts per session inside [from, to), and the shortest gap between two posts of one session. */
function measure(emulator: RunningEmulator, sessions: Set<string>, from: number, to: number) {
  const bySession = new Map<string, number[]>();
  let polls = 0;
  for (const r of emulator.requests) {
    if (!r.sessionKey || !sessions.has(r.sessionKey)) continue;
    const times = bySession.get(r.sessionKey) ?? [];
    times.push(r.at);
    bySession.set(r.sessionKey, times);
    if (r.at >= from && r.at < to) polls += 1;
  }
  let minGapMs = Number.POSITIVE_INFINITY;
  let tooSoon = 0;
  for (const times of bySession.values()) {
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      minGapMs = Math.min(minGapMs, gap);
      if (gap < INTERVAL_MS) tooSoon += 1;
    }
  }
  return { pollsPerSecond: polls / ((to - from) / 1000), minGapMs, tooSoon };
}

/** Queued sessions each instance owns, from its held sets (one per bucket). */
async function leasesPerInstance(redis: Redis, prefix: string, gateways: GatewayProcess[]): Promise<string> {
  const keys = new RedisKeyspace(prefix);
  const owned = await Promise.all(
    gateways.map(async (g) => (await Promise.all(BUCKET_TAGS.map((tag) => redis.scard(keys.held(tag, g.instanceId ?? '?'))))).reduce((a, b) => a + b, 0)),
  );
  return owned.join('/');
}

async function runWith(instances: number, redisUrl: string, inspect: Redis): Promise<Row[]> {
  const prefix = uniquePrefix('demo');
  const emulator = await startEmulator({ capacity: 0, pollIntervalMs: INTERVAL_MS });
  const rows: Row[] = [];
  try {
    const env = { GSMS_BASE_URL: emulator.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex') };
    process.stdout.write(`starting ${instances} gateway instance(s)… `);
    const gateways = await Promise.all(Array.from({ length: instances }, () => startGatewayProcess(env)));
    console.log('ready');
    const queued = new Set<string>();
    for (const target of SESSIONS) {
      // Requests land round-robin, as behind a load balancer; each is polled by whichever instance leads it.
      for (let i = queued.size; i < target; i++) {
        const sessionId = sessionPath(`demo-${i}`);
        // One player identity per session, as in a real game (and under the per-identity rate limit).
        const answer = await gateways[i % gateways.length]!.graphql(REQUEST, { s: sessionId }, `XBL3.0 x=demo-player-${i};demo-token-${i}`);
        if (answer.data?.requestCluster !== 'QUEUED') throw new Error(`expected QUEUED, got ${JSON.stringify(answer)}`);
        queued.add(sessionId);
      }
      await sleep(2 * INTERVAL_MS);
      const from = Date.now();
      await sleep(WINDOW_MS);
      const to = Date.now();
      const { pollsPerSecond, minGapMs, tooSoon } = measure(emulator, queued, from, to);
      rows.push({
        instances,
        sessions: target,
        pollsPerSecond: Math.round(pollsPerSecond * 10) / 10,
        ceiling: (1000 / INTERVAL_MS) * target,
        minGapMs,
        tooSoon,
        leasesPerInstance: await leasesPerInstance(inspect, prefix, gateways),
      });
    }
  } finally {
    await stopAllGatewayProcesses();
    await emulator.close();
    await deleteKeys(redisUrl, prefix);
  }
  return rows;
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`demo: still running after ${DEADLINE_MS} ms; stopping`);
    void stopAllGatewayProcesses().finally(() => process.exit(1));
  }, DEADLINE_MS);
  const redis = await sharedRedis();
  const inspect = new Redis(redis.url);
  const rows: Row[] = [];
  try {
    for (const instances of INSTANCES) rows.push(...(await runWith(instances, redis.url, inspect)));
  } finally {
    inspect.disconnect();
    await redis.dispose();
    clearTimeout(deadline);
  }
  console.log(`\nadvised interval ${INTERVAL_MS} ms, measured over ${WINDOW_MS} ms windows (Redis ${redis.url})`);
  console.table(rows);
  const ok = rows.every((r) => r.tooSoon === 0);
  console.log(ok ? 'one poll per session per interval at every size: no two posts of a session closer than the interval' : 'SOME SESSION WAS POLLED TWICE WITHIN ONE INTERVAL');
  process.exitCode = ok ? 0 : 1;
}

await main();
