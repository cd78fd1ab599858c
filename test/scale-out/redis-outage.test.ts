/**
 * Redis going away and coming back, on a private redis-server (persistent, so a restart keeps the data as
 * a production Redis with an append-only file would): calls fail fast with REGISTRY_UNAVAILABLE, /ready is
 * 503, nothing crashes, and a subscription open across the restart still ends with FULFILLED.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { collectWs, sessionPath, type GraphQLResponse } from '../support/gateway.js';
import { startGatewayProcess, stopAllGatewayProcesses, type GatewayProcess } from '../support/gateway-process.js';
import { spawnRedisServer, type SpawnedRedis } from '../support/redis.js';

const REQUEST = 'mutation ($s: String!) { requestCluster(titleId: "1234567890", sessionId: $s) }';
const CLUSTER = 'query ($s: String!) { cluster(sessionId: $s) { state } }';
const FOLLOW = 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }';
type Follow = { clusterStatus: { state: string } };

let redis: SpawnedRedis;
let emulator: RunningEmulator;
let a: GatewayProcess;
let b: GatewayProcess;

beforeAll(async () => {
  redis = await spawnRedisServer({ persistent: true });
  emulator = await startEmulator({ capacity: 0, pollIntervalMs: 200 });
  const env = {
    GSMS_BASE_URL: emulator.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'outage:',
    GSMS_CREDENTIAL_KEY: randomBytes(32).toString('base64'),
    REDIS_COMMAND_TIMEOUT_MS: '1000',
  };
  [a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
}, 90_000);

afterAll(async () => {
  await stopAllGatewayProcesses();
  await emulator?.close();
  // The whole server is this file's: disposing it removes every key.
  await redis?.dispose();
});

/** Asks until the answer is as wanted (recovery is asynchronous), failing after the deadline. */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a Redis restart in the middle of a subscription', () => {
  it('fails calls fast with REGISTRY_UNAVAILABLE while down, and the subscription still ends with FULFILLED', async () => {
    const sessionId = sessionPath('outage-1');
    expect((await a.graphql(REQUEST, { s: sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
    expect(await a.status('/ready')).toBe(200);

    let sawQueued!: () => void;
    const queuedSeen = new Promise<void>((resolve) => (sawQueued = resolve));
    const follow = collectWs<Follow>(b.wsClient(), FOLLOW, { s: sessionId }, (r) => {
      if (r.data?.clusterStatus.state === 'QUEUED') sawQueued();
    });
    await queuedSeen;

    await redis.stop();
    const whileDown: GraphQLResponse<{ cluster: unknown }> = await b.graphql(CLUSTER, { s: sessionId });
    expect(whileDown.errors?.[0]?.extensions?.code).toBe('REGISTRY_UNAVAILABLE');
    expect((await a.graphql(REQUEST, { s: sessionPath('outage-2') })).errors?.[0]?.extensions?.code).toBe('REGISTRY_UNAVAILABLE');
    expect(await a.status('/ready')).toBe(503);

    // Servers free up while Redis is away: the first poll after it returns finds the session fulfilled.
    emulator.setCapacity(10);
    await redis.start();

    const { results, error } = await follow;
    expect(error).toBeUndefined();
    expect(results.map((r) => r.data?.clusterStatus.state)).toEqual(['QUEUED', 'FULFILLED']);
    expect(await eventually(() => a.status('/ready'), (status) => status === 200)).toBe(200);
    const after = await eventually(() => a.graphql<{ cluster: { state: string } }>(CLUSTER, { s: sessionId }), (r) => r.data?.cluster?.state === 'FULFILLED');
    expect(after.data?.cluster.state).toBe('FULFILLED');
    // Neither process crashed.
    for (const gateway of [a, b]) expect(await gateway.status('/ready')).toBe(200);
  });
});
