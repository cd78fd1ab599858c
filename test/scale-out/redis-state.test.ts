/**
 * The Redis building blocks on a real Redis, one primary and a 3-master Redis Cluster (the registry and poll
 * store in depth: test/clusters/redis-poll-store.test.ts): the registry seen the same from two instances'
 * connections with its scripts on one slot each, pub/sub that catches up after the subscriber's connection
 * is dropped, the sealed credential, and the configuration that refuses Redis mode without a credential key.
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialCipher } from '../../src/clusters/credential-cipher.js';
import { RedisClusterRegistry } from '../../src/clusters/redis-registry.js';
import { createRedisClusterPubSub } from '../../src/clusters/redis-pubsub.js';
import { publishChange, type ClusterEvent } from '../../src/clusters/pubsub.js';
import { silentLogger } from '../../src/clusters/logger.js';
import type { ClusterAnswer } from '../../src/gsms/wire.js';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { connectRedis, type RedisConnections } from '../../src/server/redis/connections.js';
import { sessionPath } from '../support/gateway.js';
import { uniquePrefix } from '../support/redis.js';
import { startRedis, TOPOLOGIES, type TestRedis } from './topologies.js';

const queued: ClusterAnswer = { state: 'QUEUED', pollIntervalMs: 200, hostName: null, region: null, portMappings: [], secureContext: null, correlationId: 'c-1' };
const key = randomBytes(32);

describe.each(TOPOLOGIES)('shared state on %s', (name) => {
  let redis: TestRedis;
  let one: RedisConnections;
  let two: RedisConnections;
  const prefix = uniquePrefix(`state-${name}`);

  beforeAll(async () => {
    redis = await startRedis(name);
    one = connectRedis({ topology: redis.topology }, silentLogger);
    two = connectRedis({ topology: redis.topology }, silentLogger);
    expect(await one.whenConnected(10_000)).toBe(true);
    expect(await two.whenConnected(10_000)).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await redis?.deleteKeys(prefix);
    await redis?.dispose();
  });

  const registryOn = (connections: RedisConnections, instanceId = 'test-instance') =>
    new RedisClusterRegistry({ redis: connections.commands, keyPrefix: prefix, cipher: new CredentialCipher(key), instanceId, retentionMs: 60_000, watchTimeoutMs: 60_000 });

  it('what one instance records, another reads, for sessions in every bucket (no CROSSSLOT on a cluster)', async () => {
    const [a, b] = [registryOn(one, 'instance-a'), registryOn(two, 'instance-b')];
    const sessions = Array.from({ length: 40 }, (_, i) => sessionPath(`state-${name}-${i}`));
    await Promise.all(sessions.map((sessionId) => a.recordRequest({ sessionId, titleId: '1', answer: queued, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' })));
    for (const sessionId of sessions) expect(await b.get(sessionId)).toMatchObject({ sessionId, state: 'QUEUED', version: 1 });
    const listed = (await b.list({ state: 'QUEUED' })).map((record) => record.sessionId);
    expect(listed).toEqual(expect.arrayContaining(sessions));
    expect((await b.countByState()).QUEUED).toBeGreaterThanOrEqual(sessions.length);
    // The credential is stored sealed only.
    const stored = await one.commands.hgetall(a.keys.session(sessions[0]!));
    expect(JSON.stringify(stored)).not.toContain('secret-1');
  });

  it("a change published while the subscriber's connection is down still reaches it, from the registry", async () => {
    const registry = registryOn(one);
    const connections = connectRedis({ topology: redis.topology }, silentLogger);
    expect(await connections.whenConnected(10_000)).toBe(true);
    const pubsub = createRedisClusterPubSub({ publishClient: two.publisher, subscribeClient: connections.subscriber, keyPrefix: prefix, registry, logger: silentLogger, retryMs: 100 });
    const sessionId = sessionPath(`missed-${name}`);
    await registry.recordRequest({ sessionId, titleId: '1', answer: queued, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' });
    const events = pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator]();
    const versionOf = (result: IteratorResult<ClusterEvent>) => (result.value?.type === 'status' ? result.value.record.version : null);
    try {
      // Confirmed subscription: the stored record comes first.
      expect(versionOf(await events.next())).toBe(1);
      // Drop the subscriber's connection (only it), and change the session while it is down.
      await killSubscriber(redis, connections, registry.keys.statusChannel(sessionId));
      const update = await registry.recordRequest({ sessionId, titleId: '1', answer: { ...queued, state: 'FULFILLED', hostName: 'h' }, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' });
      publishChange(pubsub, update.record);
      // Delivered by pub/sub if it got through, else by the catch-up read after the reconnect.
      const next = await Promise.race([events.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event within 10 s')), 10_000))]);
      expect(versionOf(next)).toBe(2);
    } finally {
      await events.return?.();
      await connections.close();
    }
  }, 30_000);
});

/**
 * Closes the subscriber's connection from the server side. One primary: CLIENT KILL by its address (the shared
 * Redis has other users). A cluster: every pub/sub connection on the channel's master (the cluster is this
 * file's own), which is where the sharded subscriber holds the channel.
 */
async function killSubscriber(redis: TestRedis, connections: RedisConnections, channel: string): Promise<void> {
  if (!(connections.subscriber instanceof Cluster)) {
    // Found by its address (CLIENT ID is not allowed on a subscribed connection).
    const { localAddress, localPort } = (connections.subscriber as Redis).stream;
    const admin = redis.client() as Redis;
    try {
      await admin.client('KILL', 'ADDR', `${localAddress}:${localPort}`);
    } finally {
      admin.disconnect();
    }
    return;
  }
  const admin = new Redis({ host: '127.0.0.1', port: await redis.cluster!.masterOf(channel) });
  try {
    expect(Number(await admin.client('KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
  } finally {
    admin.disconnect();
  }
}

describe('sealed credential and configuration', () => {
  it('opens only with the same key and for the same session', () => {
    const cipher = new CredentialCipher(key);
    const sealed = cipher.seal('XBL3.0 x=p;token-xyz', 'session-a');
    expect(sealed).not.toContain('token-xyz');
    expect(cipher.open(sealed, 'session-a')).toBe('XBL3.0 x=p;token-xyz');
    expect(cipher.open(sealed, 'session-b')).toBeNull();
    expect(new CredentialCipher(randomBytes(32)).open(sealed, 'session-a')).toBeNull();
  });

  it('REDIS_URL without GSMS_CREDENTIAL_KEY refuses to start, naming the variable; a bad key is not echoed', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/GSMS_CREDENTIAL_KEY/);
    const badKey = 'not-a-key-but-a-secret-value';
    let message = '';
    try {
      loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', GSMS_CREDENTIAL_KEY: badKey });
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/GSMS_CREDENTIAL_KEY/);
    expect(message).not.toContain(badKey);
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', GSMS_CREDENTIAL_KEY: key.toString('base64') }).redis).toMatchObject({ keyPrefix: 'gsms:', pollLeaseMs: 3_000 });
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', GSMS_CREDENTIAL_KEY: key.toString('base64') }).redis).toMatchObject({ topology: { kind: 'cluster' } });
  });
});
