/**
 * Redis going away and coming back, on one primary (a private redis-server) and on a 3-master Redis Cluster
 * (the master serving the watched session's slot), each persistent, so a restart keeps the data as a
 * production Redis with an append-only file would: calls for what lives there fail fast with
 * REGISTRY_UNAVAILABLE, nothing crashes, and a subscription open across the restart still ends with
 * FULFILLED. One primary down: /ready is 503. One master of three down: the other shards serve and /ready
 * stays 200.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeyspace } from '../../src/clusters/redis-keyspace.js';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { collectWs, sessionPath, type GraphQLResponse } from '../support/gateway.js';
import { startGatewayProcess, stopAllGatewayProcesses, type GatewayProcess } from '../support/gateway-process.js';
import { spawnRedisServer, type SpawnedRedis } from '../support/redis.js';
import { startRedis, TOPOLOGIES, type TestRedis } from './topologies.js';

const REQUEST = 'mutation ($s: String!) { requestCluster(titleId: "1234567890", sessionId: $s) }';
const CLUSTER = 'query ($s: String!) { cluster(sessionId: $s) { state } }';
const FOLLOW = 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }';
type Follow = { clusterStatus: { state: string } };
const PREFIX = 'outage:';
const keyspace = new RedisKeyspace(PREFIX);

/** Asks until the answer is as wanted (recovery is asynchronous), failing after the deadline. */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(TOPOLOGIES)('a Redis restart in the middle of a subscription, on %s', (name) => {
  let single: SpawnedRedis | undefined;
  let cluster: TestRedis | undefined;
  let emulator: RunningEmulator;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    let env: Record<string, string>;
    if (name === 'single') {
      single = await spawnRedisServer({ persistent: true });
      env = { REDIS_URL: single.url };
    } else {
      cluster = await startRedis('cluster');
      env = cluster.env;
    }
    emulator = await startEmulator({ capacity: 0, pollIntervalMs: 200 });
    Object.assign(env, {
      GSMS_BASE_URL: emulator.url,
      REDIS_KEY_PREFIX: PREFIX,
      GSMS_CREDENTIAL_KEY: randomBytes(32).toString('base64'),
      REDIS_COMMAND_TIMEOUT_MS: '5000',
    });
    [a, b] = await Promise.all([startGatewayProcess(env, 90_000), startGatewayProcess(env, 90_000)]);
  }, 180_000);

  afterAll(async () => {
    await stopAllGatewayProcesses();
    await emulator?.close();
    // The whole server (or cluster) is this test's: disposing it removes every key.
    await single?.dispose();
    await cluster?.dispose();
  });

  it('fails calls for the absent data fast with REGISTRY_UNAVAILABLE, and the subscription still ends with FULFILLED', async () => {
    const sessionId = sessionPath(`outage-${name}`);
    expect((await a.graphql(REQUEST, { s: sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
    expect(await a.status('/ready')).toBe(200);

    let sawQueued!: () => void;
    const queuedSeen = new Promise<void>((resolve) => (sawQueued = resolve));
    const follow = collectWs<Follow>(b.wsClient(), FOLLOW, { s: sessionId }, (r) => {
      if (r.data?.clusterStatus.state === 'QUEUED') sawQueued();
    });
    await queuedSeen;

    // The session's server: the primary, or the master serving the session's slot.
    const master = cluster ? await cluster.cluster!.masterOf(keyspace.session(sessionId)) : undefined;
    // A session whose keys live on another master (cluster only), to show the other shards still serve.
    let elsewhere: string | undefined;
    for (let i = 0; cluster && !elsewhere; i += 1) {
      const candidate = sessionPath(`elsewhere-${i}`);
      if ((await cluster.cluster!.masterOf(keyspace.session(candidate))) !== master) elsewhere = candidate;
    }
    if (single) await single.stop();
    else await cluster!.cluster!.stop(master!);

    const started = Date.now();
    const whileDown: GraphQLResponse<{ cluster: unknown }> = await b.graphql(CLUSTER, { s: sessionId });
    expect(whileDown.errors?.[0]?.extensions?.code).toBe('REGISTRY_UNAVAILABLE');
    // Not the command timeout (5 s here): refused at once, the rest is this loaded machine's HTTP round trip.
    expect(Date.now() - started, 'a call for the absent data fails fast').toBeLessThan(2_500);
    if (elsewhere) {
      // Another shard: recorded and answered while the session's master is away.
      // A player whose rate-limit counter is on another master too (each identity's counter is one key,
      // so an identity whose counter lives on the absent master cannot request meanwhile).
      let player: string | undefined;
      for (let i = 0; !player; i += 1) {
        if ((await cluster!.cluster!.masterOf(`${PREFIX}ratelimit:player:player-${i}`)) !== master) player = `XBL3.0 x=player-${i};token-${i}`;
      }
      const other = await a.graphql(REQUEST, { s: elsewhere }, player);
      expect(other.errors).toBeUndefined();
      expect((await b.graphql(CLUSTER, { s: elsewhere }, player)).data).toEqual({ cluster: { state: 'QUEUED' } });
      // And it is polled meanwhile (every 200 ms while queued).
      const polled = () => emulator.requests.filter((r) => r.sessionKey === elsewhere).length;
      await emulator.waitForRequest(() => polled() >= 3, 10_000);
      expect(await a.status('/ready')).toBe(200);
    } else {
      expect((await a.graphql(REQUEST, { s: sessionPath('outage-2') })).errors?.[0]?.extensions?.code).toBe('REGISTRY_UNAVAILABLE');
      expect(await a.status('/ready')).toBe(503);
    }

    // Servers free up while Redis is away: the first poll after it returns finds the session fulfilled.
    emulator.setCapacity(10);
    if (single) await single.start();
    else await cluster!.cluster!.start(master!);

    const { results, error } = await follow;
    expect(error).toBeUndefined();
    const states = results.map((r) => r.data?.clusterStatus.state);
    expect(states.at(0)).toBe('QUEUED');
    expect(states.at(-1)).toBe('FULFILLED');
    expect(await eventually(() => a.status('/ready'), (status) => status === 200)).toBe(200);
    const after = await eventually(() => a.graphql<{ cluster: { state: string } }>(CLUSTER, { s: sessionId }), (r) => r.data?.cluster?.state === 'FULFILLED');
    expect(after.data?.cluster.state).toBe('FULFILLED');
    // Neither process crashed.
    for (const gateway of [a, b]) expect(await gateway.status('/ready')).toBe(200);
  }, 90_000);

  it('the instance heartbeats out for longer than their time: afterwards still one poll per session per interval', async () => {
    emulator.setCapacity(0);
    const sessions = [0, 1, 2, 3].map((i) => sessionPath(`heartbeat-${name}-${i}`));
    for (const [i, sessionId] of sessions.entries()) {
      expect((await [a, b][i % 2]!.graphql(REQUEST, { s: sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
    }
    const postsOf = (sessionId: string) => emulator.requests.filter((r) => r.sessionKey === sessionId).map((r) => r.at);
    await emulator.waitForRequest(() => sessions.every((s) => postsOf(s).length >= 3), 10_000);
    // The primary, or the master holding the heartbeats (one small key): every instance looks dead to the
    // others once it is back, until each beats again.
    const master = cluster ? await cluster.cluster!.masterOf(keyspace.instances) : undefined;
    if (single) await single.stop();
    else await cluster!.cluster!.stop(master!);
    // Longer than the heartbeat time (3 s by default).
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    if (single) await single.start();
    else await cluster!.cluster!.start(master!);
    const backAt = Date.now();
    // Polling goes on for every session, whoever adopted whom.
    await emulator.waitForRequest(() => sessions.every((s) => postsOf(s).filter((at) => at > backAt).length >= 5), 20_000);
    for (const sessionId of sessions) {
      const times = postsOf(sessionId);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `posts ${i - 1}→${i} of ${sessionId}`).toBeGreaterThanOrEqual(200);
    }
    emulator.setCapacity(10);
  }, 90_000);
});
