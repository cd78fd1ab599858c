/**
 * Queue position and estimated wait through the API, on a real gateway and emulator: in memory, on one Redis
 * primary and on a 3-master Redis Cluster (two gateway instances sharing it). Positions in request order,
 * `clusters(orderBy: QUEUE_POSITION)`, the estimate once four fulfilments were seen, and `clusterStatus`
 * events when a session moves up the line (including on an instance other than the one polling it).
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type GatewayApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { AUTH, postGraphQL, sessionPath, startTestGateway, TITLE, type GraphQLResponse, type TestGateway } from '../support/gateway.js';
import { uniquePrefix } from '../support/redis.js';
import { startRedis, type TestRedis, type TopologyName } from '../scale-out/topologies.js';

const REQUEST = `mutation($sessionId: String!) { requestCluster(titleId: "${TITLE}", sessionId: $sessionId) }`;
const LINE = `query { clusters(titleId: "${TITLE}", orderBy: QUEUE_POSITION) { sessionId state queuePosition estimatedWaitMs } }`;
const ONE = `query($sessionId: String!) { cluster(sessionId: $sessionId) { state queuePosition estimatedWaitMs } }`;
const FOLLOW = `subscription($sessionId: String!) { clusterStatus(sessionId: $sessionId) { state queuePosition estimatedWaitMs } }`;

type Standing = { state: string; queuePosition: number | null; estimatedWaitMs: number | null };
type Line = { clusters: (Standing & { sessionId: string })[] };

const name = (sessionId: string) => sessionId.slice(sessionId.lastIndexOf('/') + 1);

describe.each(['memory', 'single', 'cluster'] as const)('queue standing (%s)', (mode) => {
  let redis: TestRedis | undefined;
  let gateway: TestGateway;
  /** A second instance on the same Redis and emulator (Redis modes). */
  let second: { app: GatewayApp; url: string } | undefined;
  const run = randomBytes(3).toString('hex');
  const prefix = uniquePrefix(`queue-${mode}`);
  const session = (label: string) => sessionPath(`queue-${mode}-${run}-${label}`);

  beforeAll(async () => {
    const env: Record<string, string> = {};
    if (mode !== 'memory') {
      redis = await startRedis(mode as TopologyName);
      Object.assign(env, redis.env, { REDIS_KEY_PREFIX: prefix, GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex') });
    }
    // One server at a time, living until released: the test decides when the line moves.
    gateway = await startTestGateway({ emulator: { capacity: 1, clusterLifetimeMs: 600_000, pollIntervalMs: 50 }, env });
    if (redis) {
      const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
      const app = buildApp(config, gateway.emulator.url, createLogger('silent'));
      second = { app, url: await app.start(0, '127.0.0.1') };
    }
  }, 60_000);

  afterAll(async () => {
    await second?.app.stop();
    await gateway?.close();
    await redis?.deleteKeys(prefix);
    await redis?.dispose();
  });

  /** Requests alternate between the instances (Redis modes), so the line is built by both. */
  let requests = 0;
  async function request(label: string): Promise<string> {
    const sessionId = session(label);
    const url = second && requests++ % 2 === 1 ? second.url : gateway.url;
    const response = await postGraphQL<{ requestCluster: string }>(url, REQUEST, { sessionId });
    expect(response.errors).toBeUndefined();
    return sessionId;
  }

  async function line(url = gateway.url): Promise<[string, number | null][]> {
    const response: GraphQLResponse<Line> = await postGraphQL(url, LINE);
    expect(response.errors).toBeUndefined();
    return response.data!.clusters.filter((c) => c.state === 'QUEUED').map((c) => [name(c.sessionId), c.queuePosition]);
  }

  /** Frees the running server and waits until the gateway has seen the next session fulfilled. */
  async function serveNext(expectedNext: string): Promise<void> {
    gateway.emulator.releaseClusters(TITLE);
    await expect
      .poll(async () => (await gateway.graphql<{ cluster: Standing }>(ONE, { sessionId: expectedNext })).data?.cluster.state, { timeout: 10_000, interval: 20 })
      .toBe('FULFILLED');
  }

  it('gives positions in request order on every instance, sorts by them, and tells a subscriber when it moves up', { timeout: 60_000 }, async () => {
    const first = await request('first');
    const queued = [];
    for (const label of ['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7']) queued.push(await request(label));
    const expected = queued.map((sessionId, i) => [name(sessionId), i + 1]);
    await expect.poll(() => line(), { timeout: 10_000, interval: 20 }).toEqual(expected);
    if (second) expect(await line(second.url)).toEqual(expected);
    // Without evidence there is no estimate; a served session has no position.
    const q7 = queued[6]!;
    expect((await gateway.graphql<{ cluster: Standing }>(ONE, { sessionId: q7 })).data?.cluster).toEqual({ state: 'QUEUED', queuePosition: 7, estimatedWaitMs: null });
    expect((await gateway.graphql<{ cluster: Standing }>(ONE, { sessionId: first })).data?.cluster).toMatchObject({ state: 'FULFILLED', queuePosition: null });

    // Follow the last one (on the second instance in Redis modes: the standing events cross instances).
    const client = second ? gatewayClient(second.url) : gateway.wsClient();
    const seen: Standing[] = [];
    let moved!: () => void;
    const movedTo6 = new Promise<void>((resolve) => (moved = resolve));
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe<{ clusterStatus: Standing }>(
        { query: FOLLOW, variables: { sessionId: q7 } },
        {
          next: ({ data }) => {
            seen.push(data!.clusterStatus);
            if (data!.clusterStatus.queuePosition === 6) moved();
          },
          error: reject,
          complete: resolve,
        },
      ),
    );
    await expect.poll(() => seen.length, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
    expect(seen[0]).toEqual({ state: 'QUEUED', queuePosition: 7, estimatedWaitMs: null });

    await serveNext(queued[0]!);
    await movedTo6;
    expect(await line()).toEqual(queued.slice(1).map((sessionId, i) => [name(sessionId), i + 1]));

    // Three more fulfilments make four: now an estimate, position × the mean interval seen.
    for (const next of queued.slice(1, 4)) await serveNext(next);
    await expect
      .poll(async () => (await gateway.graphql<{ cluster: Standing }>(ONE, { sessionId: q7 })).data?.cluster, { timeout: 10_000, interval: 20 })
      .toMatchObject({ state: 'QUEUED', queuePosition: 3, estimatedWaitMs: expect.any(Number) });
    await expect.poll(() => seen.at(-1), { timeout: 10_000, interval: 20 }).toMatchObject({ queuePosition: 3, estimatedWaitMs: expect.any(Number) });
    const sorted = await line(second?.url);
    expect(sorted.map(([, position]) => position)).toEqual([1, 2, 3]);

    // Positions shown to the subscriber never went up, and the stream ends at FULFILLED.
    const positions = seen.map((s) => s.queuePosition).filter((p): p is number => p !== null);
    expect(positions).toEqual([...positions].sort((a, b) => b - a));
    for (const next of queued.slice(4)) await serveNext(next);
    await done;
    expect(seen.at(-1)).toEqual({ state: 'FULFILLED', queuePosition: null, estimatedWaitMs: null });
    if (second) await client.dispose();
  });
});


function gatewayClient(url: string) {
  return createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: AUTH } });
}
