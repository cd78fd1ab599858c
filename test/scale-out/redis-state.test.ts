/**
 * The Redis building blocks on a real Redis, each from two connections as two instances would use them:
 * record updates that never lose or repeat a version, leases only their holder can renew or release, the
 * sealed credential, and the configuration that refuses Redis mode without a credential key.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialCipher } from '../../src/clusters/credential-cipher.js';
import { RedisPollLeases } from '../../src/clusters/redis-poll-lease.js';
import { RedisClusterRegistry } from '../../src/clusters/redis-registry.js';
import { createRedisClusterPubSub } from '../../src/clusters/redis-pubsub.js';
import { publishChange, type ClusterEvent } from '../../src/clusters/pubsub.js';
import { silentLogger } from '../../src/clusters/logger.js';
import type { ClusterAnswer } from '../../src/gsms/wire.js';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { sessionPath } from '../support/gateway.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../support/redis.js';

const queued: ClusterAnswer = { state: 'QUEUED', pollIntervalMs: 200, hostName: null, region: null, portMappings: [], secureContext: null, correlationId: 'c-1' };
const elsewhere = (n: number): ClusterAnswer => ({ ...queued, hostName: `host-${n}` });

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

const registryOn = (client: Redis) => new RedisClusterRegistry({ redis: client, keyPrefix: prefix, cipher: new CredentialCipher(key), retentionMs: 60_000, watchTimeoutMs: 60_000 });

describe('shared registry', () => {
  it('concurrent updates from three instances each apply once: no version lost, repeated or going backwards', async () => {
    const writers = [registryOn(one), registryOn(two), registryOn(three)];
    const [a, b] = writers as [RedisClusterRegistry, RedisClusterRegistry];
    const sessionId = sessionPath('cas-1');
    await a.recordRequest({ sessionId, titleId: '1', answer: queued, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' });
    // 40 updates at once, each a change (a new host name), spread over the three connections.
    const updates = await Promise.all(Array.from({ length: 40 }, (_, i) => writers[i % 3]!.recordPoll(sessionId, elsewhere(i))));
    const versions = updates.map((u) => u!.record.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
    const stored = await b.get(sessionId);
    expect(stored).toMatchObject({ version: 41, pollCount: 41 });
    expect(await b.watchedSince(0)).toContain(sessionId);
  });

  it('a second requester on another instance is added, and polling uses the most recent credential', async () => {
    const [a, b] = [registryOn(one), registryOn(two)];
    const sessionId = sessionPath('two-requesters');
    await a.recordRequest({ sessionId, titleId: '1', answer: queued, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' });
    await b.recordRequest({ sessionId, titleId: '1', answer: queued, requester: 'p2', credential: 'XBL3.0 x=p2;secret-2' });
    expect((await a.get(sessionId))?.requesters).toEqual(['p1', 'p2']);
    expect(await a.pollCredential(sessionId)).toBe('XBL3.0 x=p2;secret-2');
    const raw = await one.get(`${prefix}cluster:${sessionId}`);
    expect(raw).not.toContain('secret-2');
    // A terminal state leaves the index pollers scan.
    await a.recordPoll(sessionId, { ...queued, state: 'FULFILLED', hostName: 'h' });
    expect(await a.watchedSince(0)).not.toContain(sessionId);
  });

  it('list answers the same through either connection', async () => {
    const [a, b] = [registryOn(one), registryOn(two)];
    expect(await a.list({ state: 'FULFILLED' })).toEqual(await b.list({ state: 'FULFILLED' }));
    expect((await a.list({})).length).toBeGreaterThanOrEqual(2);
  });
});

describe('record expiry', () => {
  it('a queued, watched record lives until its watch ends; a settled one for the retention only', async () => {
    const registry = registryOn(one);
    const watched = sessionPath('ttl-queued');
    const settled = sessionPath('ttl-settled');
    await registry.recordRequest({ sessionId: watched, titleId: '1', answer: queued, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' });
    await registry.recordRequest({ sessionId: settled, titleId: '1', answer: { ...queued, state: 'FULFILLED' }, requester: 'p1', credential: 'XBL3.0 x=p1;secret-1' });
    // retention 60 s, watch 60 s: the queued record is kept for the watch plus the retention.
    expect(await one.pttl(`${prefix}cluster:${settled}`)).toBeLessThanOrEqual(60_000);
    expect(await one.pttl(`${prefix}cluster:${watched}`)).toBeGreaterThan(110_000);
  });
});

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
      const update = await registry.recordPoll(sessionId, { ...queued, state: 'FULFILLED', hostName: 'h' });
      publishChange(pubsub, update!.record);
      // Delivered by pub/sub if it got through, else by the catch-up read after the reconnect.
      const next = await Promise.race([events.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event within 10 s')), 10_000))]);
      expect(versionOf(next)).toBe(2);
    } finally {
      await events.return?.();
      subscribeClient.disconnect();
    }
  });
});

describe('poll leases', () => {
  const leasesFor = (client: Redis, owner: string, leaseMs = 5_000) =>
    new RedisPollLeases({ redis: client, keyPrefix: prefix, owner, leaseMs, postedRetentionMs: 60_000 });

  it('one holder at a time; only the holder renews, claims a post or releases', async () => {
    const [a, b] = [leasesFor(one, 'instance-a'), leasesFor(two, 'instance-b')];
    const sessionId = sessionPath('lease-1');
    expect(await a.acquire(sessionId)).toBe(true);
    expect(await a.acquire(sessionId)).toBe(true);
    expect(await b.acquire(sessionId)).toBe(false);
    expect(await b.renew(sessionId)).toBe(false);
    expect(await b.claimPost(sessionId, 123)).toBe(false);
    await b.release(sessionId);
    expect(await b.acquire(sessionId)).toBe(false);

    expect(await a.claimPost(sessionId, 1_000)).toBe(true);
    expect(await b.lastPostAt(sessionId)).toBe(1_000);
    await a.release(sessionId);
    expect(await b.acquire(sessionId)).toBe(true);
    expect(await a.renew(sessionId)).toBe(false);
  });

  it('a lease that is not renewed lapses and another instance takes it', async () => {
    const [a, b] = [leasesFor(one, 'instance-a', 500), leasesFor(two, 'instance-b', 500)];
    const sessionId = sessionPath('lease-2');
    expect(await a.acquire(sessionId)).toBe(true);
    const deadline = Date.now() + 5_000;
    while (!(await b.acquire(sessionId)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await one.get(`${prefix}lease:${sessionId}`)).toBe('instance-b');
    expect(await a.claimPost(sessionId, 1)).toBe(false);
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
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', GSMS_CREDENTIAL_KEY: key.toString('base64') }).redis).toMatchObject({ keyPrefix: 'gsms:', pollLeaseMs: 5_000 });
  });
});
