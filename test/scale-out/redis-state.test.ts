/**
 * The Redis building blocks on a real Redis (the registry and poll store have test/clusters/redis-poll-store.test.ts):
 * pub/sub that catches up after a dropped connection, the sealed credential, and the configuration that
 * refuses Redis mode without a credential key.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialCipher } from '../../src/clusters/credential-cipher.js';
import { RedisClusterRegistry } from '../../src/clusters/redis-registry.js';
import { createRedisClusterPubSub } from '../../src/clusters/redis-pubsub.js';
import { publishChange, type ClusterEvent } from '../../src/clusters/pubsub.js';
import { silentLogger } from '../../src/clusters/logger.js';
import type { ClusterAnswer } from '../../src/gsms/wire.js';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { sessionPath } from '../support/gateway.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../support/redis.js';

const queued: ClusterAnswer = { state: 'QUEUED', pollIntervalMs: 200, hostName: null, region: null, portMappings: [], secureContext: null, correlationId: 'c-1' };

let redis: { url: string; dispose(): Promise<void> };
let one: Redis;
let two: Redis;
let three: Redis;
const prefix = uniquePrefix('state');
const key = randomBytes(32);

beforeAll(async () => {
  redis = await sharedRedis();
  one = new Redis(redis.url);
  two = new Redis(redis.url);
  three = new Redis(redis.url);
});

afterAll(async () => {
  one?.disconnect();
  two?.disconnect();
  three?.disconnect();
  await deleteKeys(redis.url, prefix);
  await redis?.dispose();
});

const registryOn = (client: Redis) => new RedisClusterRegistry({ redis: client, keyPrefix: prefix, cipher: new CredentialCipher(key), instanceId: 'test-instance', retentionMs: 60_000, watchTimeoutMs: 60_000 });

describe('shared pub/sub', () => {
  it("a change published while the subscriber's connection is down still reaches it, from the registry", async () => {
    const registry = registryOn(one);
    const subscribeClient = new Redis(redis.url, { retryStrategy: () => 200 });
    const clientId = await subscribeClient.client('ID');
    const pubsub = createRedisClusterPubSub({ publishClient: two, subscribeClient, keyPrefix: prefix, registry, logger: silentLogger });
    const sessionId = sessionPath('missed-1');
    await registry.recordRequest({ sessionId, titleId: '1', answer: queued, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' });
    const events = pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator]();
    const versionOf = (result: IteratorResult<ClusterEvent>) => (result.value?.type === 'status' ? result.value.record.version : null);
    try {
      // Confirmed subscription: the stored record comes first.
      expect(versionOf(await events.next())).toBe(1);
      // Drop the subscriber's connection (this one client only), and change the session while it is down.
      await one.client('KILL', 'ID', String(clientId));
      const update = await registry.recordRequest({ sessionId, titleId: '1', answer: { ...queued, state: 'FULFILLED', hostName: 'h' }, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' });
      publishChange(pubsub, update.record);
      // Delivered by pub/sub if it got through, else by the catch-up read after the reconnect.
      const next = await Promise.race([events.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event within 10 s')), 10_000))]);
      expect(versionOf(next)).toBe(2);
    } finally {
      await events.return?.();
      subscribeClient.disconnect();
    }
  });
});

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
  });
});
