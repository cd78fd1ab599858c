/**
 * Three gateway processes on one Redis, as behind a load balancer, on one primary and on a 3-master Redis
 * Cluster: a mutation on one, subscriptions on the others, one poller per session across all of them, and
 * a poller's instance killed with SIGKILL.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { collectWs, sessionPath, TITLE, type GraphQLResponse, foldRepeats } from '../support/gateway.js';
import { startGatewayProcess, stopAllGatewayProcesses, type GatewayProcess } from '../support/gateway-process.js';
import { RedisKeyspace } from '../../src/clusters/redis-keyspace.js';
import { uniquePrefix } from '../support/redis.js';
import { startRedis, TOPOLOGIES, type TestRedis } from './topologies.js';

const INTERVAL_MS = 200;
const REQUEST = 'mutation ($s: String!) { requestCluster(titleId: "1234567890", sessionId: $s) }';
const CLUSTER = 'query ($s: String!) { cluster(sessionId: $s) { sessionId titleId state hostName region pollIntervalMs requestedAt portMappings { name externalPort } } }';
const FOLLOW = 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state hostName } }';
type Follow = { clusterStatus: { state: string; hostName: string | null } };
const states = (results: GraphQLResponse<Follow>[]) => results.map((r) => r.data?.clusterStatus.state ?? r.errors?.[0]?.extensions?.code);
const stateChanges = (results: GraphQLResponse<Follow>[]) => foldRepeats(states(results));

describe.each(TOPOLOGIES)('three instances on %s', (name) => {
  let redis: TestRedis;
  let inspect: Redis | Cluster;
  let emulator: RunningEmulator;
  let gateways: GatewayProcess[];
  const prefix = uniquePrefix(`three-${name}`);
  const keyspace = new RedisKeyspace(prefix);

  beforeAll(async () => {
    redis = await startRedis(name);
    inspect = redis.client();
    emulator = await startEmulator({ capacity: 1, pollIntervalMs: INTERVAL_MS });
    const env = {
      GSMS_BASE_URL: emulator.url,
      ...redis.env,
      REDIS_KEY_PREFIX: prefix,
      GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex'),
    };
    // A generous start: on this shared 2-core machine three processes loading tsx at once can take long.
    gateways = await Promise.all([startGatewayProcess(env, 90_000), startGatewayProcess(env, 90_000), startGatewayProcess(env, 90_000)]);
  }, 180_000);

  afterAll(async () => {
    await stopAllGatewayProcesses();
    await emulator?.close();
    inspect?.disconnect();
    await redis?.deleteKeys(prefix);
    await redis?.dispose();
  });

  /** Post times of one session, as the emulator answered them. */
  const postTimes = (sessionId: string) => emulator.requests.filter((r) => r.sessionKey === sessionId).map((r) => r.at);

  function expectOnePostPerInterval(sessionId: string): void {
    const times = postTimes(sessionId);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `posts ${i - 1}→${i} of ${sessionId}`).toBeGreaterThanOrEqual(INTERVAL_MS);
  }

  /** The instance that polls a queued session: its session hash names it. */
  const ownerOf = (sessionId: string) => inspect.hget(keyspace.session(sessionId), 'owner');

  describe('two instances: a mutation on A, a subscription on B', () => {
    it('B follows the session QUEUED → FULFILLED over graphql-ws, and `cluster` on B shows what A recorded', async () => {
      const [a, b] = gateways as [GatewayProcess, GatewayProcess];
      expect((await a.graphql(REQUEST, { s: sessionPath('ab-holder') })).data).toEqual({ requestCluster: 'FULFILLED' });
      const sessionId = sessionPath('ab-1');
      expect((await a.graphql(REQUEST, { s: sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
      const onA = await a.graphql(CLUSTER, { s: sessionId });
      expect(onA.data?.cluster).toMatchObject({ state: 'QUEUED', sessionId });
      expect((await b.graphql(CLUSTER, { s: sessionId })).data).toEqual(onA.data);

      const { results, error } = await collectWs<Follow>(b.wsClient(), FOLLOW, { s: sessionId }, (r) => {
        if (r.data?.clusterStatus.state === 'QUEUED') emulator.releaseClusters(TITLE);
      });
      expect(error).toBeUndefined();
      expect(stateChanges(results)).toEqual(['QUEUED', 'FULFILLED']);
      expect(results.at(-1)?.data?.clusterStatus.hostName).toEqual(expect.any(String));

      const fulfilledOnA = await a.graphql(CLUSTER, { s: sessionId });
      expect(fulfilledOnA.data?.cluster).toMatchObject({ state: 'FULFILLED', hostName: results.at(-1)?.data?.clusterStatus.hostName });
      for (const gateway of gateways) expect((await gateway.graphql(CLUSTER, { s: sessionId })).data).toEqual(fulfilledOnA.data);
    });

    it('Redis holds the polling credential only sealed, never as plain text', async () => {
      const stored = await inspect.hgetall(keyspace.session(sessionPath('ab-1')));
      expect(Object.keys(stored).length).toBeGreaterThan(0);
      for (const value of Object.values(stored)) {
        expect(value).not.toContain('token-one-secret');
        expect(value).not.toContain('XBL3.0');
      }
    });
  });

  describe('one poller per session across instances', () => {
    it('with subscribers on all three, the emulator sees one post per session per interval, and all of them get FULFILLED', async () => {
      emulator.setCapacity(0);
      const sessions = gateways.map((_, i) => sessionPath(`fan-${i}`));
      // Each session is requested through a different instance.
      for (const [i, sessionId] of sessions.entries()) {
        expect((await gateways[i]!.graphql(REQUEST, { s: sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
      }
      const followers = sessions.flatMap((sessionId) =>
        gateways.map((gateway) => collectWs<Follow>(gateway.wsClient(), FOLLOW, { s: sessionId }).then((r) => ({ sessionId, ...r }))),
      );
      // Let each session be polled several times while nine subscribers listen, then free servers for all.
      await emulator.waitForRequest(() => sessions.every((s) => postTimes(s).length >= 8), 20_000);
      emulator.setCapacity(10);

      for (const { results, error } of await Promise.all(followers)) {
        expect(error).toBeUndefined();
        expect(states(results).at(0)).toBe('QUEUED');
        expect(states(results).at(-1)).toBe('FULFILLED');
      }
      for (const sessionId of sessions) expectOnePostPerInterval(sessionId);
    });
  });

  describe('crash safety', () => {
    it('kill -9 of the polling instance: a survivor takes over within 5 s of the kill and its subscribers get FULFILLED', async () => {
      emulator.setCapacity(0);
      const sessionId = sessionPath('crash-1');
      expect((await gateways[0]!.graphql(REQUEST, { s: sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
      // Once it has been polled, the session names the instance polling it.
      await emulator.waitForRequest((r) => r.sessionKey === sessionId && postTimes(sessionId).length >= 2, 10_000);
      const holderId = await ownerOf(sessionId);
      const holder = gateways.find((g) => g.instanceId === holderId);
      expect(holder, 'the session names one of the instances as its poller').toBeDefined();
      const survivors = gateways.filter((g) => g !== holder);
      const followers = survivors.map((gateway) => collectWs<Follow>(gateway.wsClient(), FOLLOW, { s: sessionId }));
      await emulator.waitForRequest((r) => r.sessionKey === sessionId && postTimes(sessionId).length >= 4, 10_000);

      const killedAt = Date.now();
      await holder!.kill();
      const takeover = await emulator.waitForRequest((r) => r.sessionKey === sessionId && r.at > killedAt, 20_000);
      // The bound: a dead instance's sessions are polled again within 5 s of the kill.
      expect(takeover.at - killedAt).toBeLessThan(5_000);
      expect(survivors.map((g) => g.instanceId)).toContain(await ownerOf(sessionId));

      emulator.setCapacity(10);
      for (const { results, error } of await Promise.all(followers)) {
        expect(error).toBeUndefined();
        expect(stateChanges(results)).toEqual(['QUEUED', 'FULFILLED']);
      }
      expectOnePostPerInterval(sessionId);
    });
  });
});
