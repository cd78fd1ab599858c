/**
 * The Redis transport on both topologies (one primary, a 3-master Redis Cluster): connections that fail
 * fast and report readiness, sharded pub/sub between two sets of connections as two instances would have,
 * with the catch-up after a reconnect, and the rate limit's counters. Everything on real Redis servers.
 */
import { Writable } from 'node:stream';
import { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterRecord } from '../../src/clusters/cluster-record.js';
import { publishChange, type ClusterEvent, type ClusterPubSub } from '../../src/clusters/pubsub.js';
import { BUCKET_TAGS, bucketTagOf, RedisKeyspace } from '../../src/clusters/redis-keyspace.js';
import { createRedisClusterPubSub } from '../../src/clusters/redis-pubsub.js';
import { connectRedis, type RedisConnections } from '../../src/server/redis/connections.js';
import { createRequestClusterLimiter } from '../../src/server/security/rate-limit.js';
import { sessionPath } from '../support/gateway.js';
import { spawnRedisServer, uniquePrefix, type SpawnedRedis } from '../support/redis.js';
import { startRedis, TOPOLOGIES, type TestRedis } from './topologies.js';

/** A pino logger whose lines a test can read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const record = (sessionId: string, version: number, state: ClusterRecord['state'] = 'QUEUED'): ClusterRecord => ({
  sessionId,
  titleId: '1',
  state,
  pollIntervalMs: 200,
  hostName: state === 'FULFILLED' ? 'host-1' : null,
  region: null,
  portMappings: [],
  secureContext: null,
  correlationId: 'c-1',
  requestedAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
  watchStartedAt: new Date(0).toISOString(),
  requesters: ['p1'],
  pollCount: version,
  version,
});

/** A stand-in registry that reads records from a real Redis key per session (the catch-up's source). */
function keyRegistry(redis: Redis | Cluster, keyspace: RedisKeyspace) {
  return {
    async get(sessionId: string): Promise<ClusterRecord | null> {
      const raw = await redis.get(keyspace.session(sessionId));
      return raw ? (JSON.parse(raw) as ClusterRecord) : null;
    },
    async put(value: ClusterRecord): Promise<void> {
      await redis.set(keyspace.session(value.sessionId), JSON.stringify(value));
    },
  };
}

/** The next value, or a failure naming what did not come within `ms`. */
async function nextWithin<T>(iterator: AsyncIterator<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    iterator.next(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
  if (result.done) throw new Error(`${what}: the stream ended`);
  return result.value;
}

const versionOf = (event: ClusterEvent) => (event.type === 'status' ? event.record.version : null);

/** Reads `events` until one of `version` arrives, keeping every version seen (catch-ups may repeat earlier ones). */
async function readUntilVersion(events: AsyncIterator<ClusterEvent>, version: number, seen: number[], ms: number, what: string): Promise<void> {
  while (!seen.includes(version)) seen.push(versionOf(await nextWithin(events, ms, what))!);
}

/** Two instances' worth of connections and pub/sub on one topology. */
function instance(topology: TestRedis['topology'], prefix: string, log = capturedLogger()) {
  const connections = connectRedis({ topology, commandTimeoutMs: 1_000 }, log.logger);
  const keyspace = new RedisKeyspace(prefix);
  const registry = keyRegistry(connections.commands, keyspace);
  const pubsub = createRedisClusterPubSub({
    publishClient: connections.publisher,
    subscribeClient: connections.subscriber,
    keyPrefix: prefix,
    registry,
    logger: log.logger,
    retryMs: 100,
  });
  return { connections, keyspace, registry, pubsub, log };
}

describe.each(TOPOLOGIES)('Redis transport on %s', (name) => {
  let redis: TestRedis;
  const prefix = uniquePrefix(`transport-${name}`);
  let a: ReturnType<typeof instance>;
  let b: ReturnType<typeof instance>;

  beforeAll(async () => {
    redis = await startRedis(name);
    a = instance(redis.topology, prefix);
    b = instance(redis.topology, prefix);
    expect(await a.connections.whenConnected(10_000)).toBe(true);
    expect(await b.connections.whenConnected(10_000)).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await a?.connections.close();
    await b?.connections.close();
    await redis?.deleteKeys(prefix);
    await redis?.dispose();
  });

  it('connects with the right client and reports ready', async () => {
    expect(a.connections.commands instanceof Cluster).toBe(name === 'cluster');
    expect(await a.connections.isReachable()).toBe(true);
  });

  it('a status change published by one instance reaches a subscriber on the other, after the stored record', async () => {
    const sessionId = sessionPath(`transport-status-${name}`);
    await a.registry.put(record(sessionId, 1));
    const events = b.pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator]();
    try {
      // Once the channel is confirmed, the catch-up yields the stored record: from then on nothing is missed.
      expect(versionOf(await nextWithin(events, 5_000, 'catch-up'))).toBe(1);
      const changed = record(sessionId, 2, 'FULFILLED');
      await a.registry.put(changed);
      publishChange(a.pubsub, changed);
      expect(versionOf(await nextWithin(events, 5_000, 'published change'))).toBe(2);
    } finally {
      await events.return?.();
    }
  });

  it('every change reaches a cluster:changes listener, whatever its bucket, through 16 bucket channels', async () => {
    const changes = b.pubsub.subscribe('cluster:changes')[Symbol.asyncIterator]();
    // A second listener in the same process shares the 16 subscriptions.
    const again = b.pubsub.subscribe('cluster:changes')[Symbol.asyncIterator]();
    const firstOfAgain = again.next();
    try {
      // Sessions until every bucket has one.
      const sessions = new Map<string, string>();
      for (let i = 0; sessions.size < BUCKET_TAGS.length; i += 1) {
        const sessionId = sessionPath(`transport-changes-${name}-${i}`);
        if (!sessions.has(bucketTagOf(sessionId))) sessions.set(bucketTagOf(sessionId), sessionId);
      }
      // The subscriptions are confirmed asynchronously: wait until Redis counts a subscriber on each channel.
      await waitUntil(async () => (await shardSubscribers(redis, BUCKET_TAGS.map((tag) => b.keyspace.changesChannel(tag)))).every((count) => count === 1), 5_000);
      for (const sessionId of sessions.values()) a.pubsub.publish('cluster:changes', record(sessionId, 1));
      const seen = new Set<string>();
      const wanted = new Set(sessions.values());
      // (A change an earlier test published may still arrive; only this test's sessions count.)
      while (seen.size < sessions.size) {
        const { sessionId } = await nextWithin(changes, 5_000, 'changes');
        if (wanted.has(sessionId)) seen.add(sessionId);
      }
      expect([...seen].sort()).toEqual([...sessions.values()].sort());
      expect((await firstOfAgain).done).toBe(false);
    } finally {
      await changes.return?.();
      await again.return?.();
    }
    // Both listeners gone: the channels are unsubscribed.
    await waitUntil(async () => (await shardSubscribers(redis, BUCKET_TAGS.map((tag) => b.keyspace.changesChannel(tag)))).every((count) => count === 0), 5_000);
  });

  it('an unreadable message is dropped with a log line and the stream goes on', async () => {
    const sessionId = sessionPath(`transport-garbage-${name}`);
    await a.registry.put(record(sessionId, 1));
    const events = b.pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator]();
    try {
      expect(versionOf(await nextWithin(events, 5_000, 'catch-up'))).toBe(1);
      await a.connections.publisher.spublish(b.keyspace.statusChannel(sessionId), 'not json');
      const changed = record(sessionId, 2);
      publishChange(a.pubsub, changed);
      expect(versionOf(await nextWithin(events, 5_000, 'change after garbage'))).toBe(2);
      expect(b.log.lines.some((line) => line.msg === 'dropped an unreadable pub/sub message')).toBe(true);
    } finally {
      await events.return?.();
    }
  });

  it('the rate limit counts across instances in Redis, one key per identity', async () => {
    const rate = { max: 3, windowMs: 60_000 };
    const limiterA = createRequestClusterLimiter(rate, { redis: a.connections.commands, keyPrefix: prefix });
    const limiterB = createRequestClusterLimiter(rate, { redis: b.connections.commands, keyPrefix: prefix });
    expect(limiterA).toBeInstanceOf(RateLimiterRedis);
    for (const identity of ['player:one', 'player:two']) {
      await limiterA.consume(identity, 2);
      await limiterB.consume(identity, 1);
      const refusal = await limiterA.consume(identity, 1).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RateLimiterRes);
      expect((refusal as RateLimiterRes).msBeforeNext).toBeGreaterThan(0);
    }
  });
});

/** Subscribers Redis counts on each shard channel (PUBSUB SHARDNUMSUB, asked of the master serving it). */
async function shardSubscribers(redis: TestRedis, channels: string[]): Promise<number[]> {
  const client = redis.client();
  client.on('error', () => {});
  try {
    return await Promise.all(
      channels.map(async (channel) => {
        const node = client instanceof Cluster ? new Redis({ host: '127.0.0.1', port: await redis.cluster!.masterOf(channel) }) : client;
        try {
          const reply = (await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
          return Number(reply[1]);
        } finally {
          if (node !== client) node.disconnect();
        }
      }),
    );
  } finally {
    client.disconnect();
  }
}

async function waitUntil(condition: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A Redis that goes away and comes back: a private primary (the shared one must stay up), or the master
 * of the cluster serving the watched session's slot. Persistent, so it comes back with its keys.
 */
describe.each(TOPOLOGIES)('Redis transport on %s when Redis restarts', (name) => {
  let single: SpawnedRedis | undefined;
  let redis: TestRedis | undefined;
  let topology: TestRedis['topology'];
  const prefix = uniquePrefix(`transport-restart-${name}`);

  beforeAll(async () => {
    if (name === 'single') {
      single = await spawnRedisServer({ persistent: true });
      topology = { kind: 'single', url: single.url };
    } else {
      redis = await startRedis('cluster');
      topology = redis.topology;
    }
  }, 60_000);

  afterAll(async () => {
    await single?.dispose();
    await redis?.dispose();
  });

  /** Stops the server holding `key`, runs `whileDown`, starts it again; returns what whileDown returned. */
  async function outage<T>(key: string, whileDown: () => Promise<T>): Promise<T> {
    if (single) {
      await single.stop();
      try {
        return await whileDown();
      } finally {
        await single.start();
      }
    }
    const port = await redis!.cluster!.masterOf(key);
    await redis!.cluster!.stop(port);
    try {
      return await whileDown();
    } finally {
      await redis!.cluster!.start(port);
    }
  }

  it('commands for the absent server fail fast, others still work (cluster), and one warning per outage is logged', async () => {
    const log = capturedLogger();
    const { connections, keyspace } = instance(topology, prefix, log);
    try {
      expect(await connections.whenConnected(10_000)).toBe(true);
      const sessionId = sessionPath(`restart-fail-fast-${name}`);
      const key = keyspace.session(sessionId);
      // A key on another master (cluster): its commands keep working during the outage.
      let elsewhere: string | undefined;
      if (redis?.cluster) {
        const down = await redis.cluster.masterOf(key);
        for (let i = 0; !elsewhere; i += 1) {
          const candidate = keyspace.session(sessionPath(`restart-elsewhere-${i}`));
          if ((await redis.cluster.masterOf(candidate)) !== down) elsewhere = candidate;
        }
      }
      await connections.commands.set(key, 'before');
      const { failedInMs, elsewhereValue, reachable } = await outage(key, async () => {
        // The client notices the closed connection at once; give it the moment it takes.
        await waitUntil(async () => {
          try {
            await connections.commands.get(key);
            return false;
          } catch {
            return true;
          }
        }, 5_000);
        const started = Date.now();
        await expect(connections.commands.get(key)).rejects.toThrow();
        const failedInMs = Date.now() - started;
        const elsewhereValue = elsewhere ? await connections.commands.set(elsewhere, 'x') : undefined;
        return { failedInMs, elsewhereValue, reachable: await connections.isReachable() };
      });
      expect(failedInMs).toBeLessThan(500);
      // One primary down: not ready. One shard of three down: the cluster still serves the rest.
      expect(reachable).toBe(name === 'cluster');
      if (elsewhere) expect(elsewhereValue).toBe('OK');
      // Back: the same key is served again (within the reconnect's second).
      await waitUntil(async () => (await connections.commands.get(key).catch(() => null)) === 'before', 10_000);
      expect(await connections.isReachable()).toBe(true);
      const warnings = log.lines.filter((line) => line.level === 40 && /Redis (Cluster node|connection) lost/.test(String(line.msg)));
      // At most one line per role and outage (commands, publish, subscribe).
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(3);
    } finally {
      await connections.close();
    }
  }, 60_000);

  it("a subscription outlives a restart of its session's server: catch-up of what changed while down, then live events", async () => {
    const a = instance(topology, prefix);
    const b = instance(topology, prefix);
    const sessionId = sessionPath(`restart-sub-${name}`);
    try {
      expect(await a.connections.whenConnected(10_000)).toBe(true);
      expect(await b.connections.whenConnected(10_000)).toBe(true);
      await a.registry.put(record(sessionId, 1));
      const events = b.pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator]();
      try {
        expect(versionOf(await nextWithin(events, 5_000, 'catch-up'))).toBe(1);
        await outage(a.keyspace.session(sessionId), async () => {
          // A publish while the channel's server is away is retried for a few seconds; here it is lost
          // for good (the record cannot even be stored), so only the catch-up can deliver version 2.
          await new Promise((resolve) => setTimeout(resolve, 300));
        });
        // Stored right after the server is back, published before the subscriber has resubscribed, perhaps.
        const changed = record(sessionId, 2);
        await waitUntil(async () => a.registry.put(changed).then(() => true, () => false), 10_000);
        publishChange(a.pubsub, changed);
        const seen: number[] = [];
        await readUntilVersion(events, 2, seen, 15_000, 'version 2 after the restart');
        // And the subscription is live again: a later change arrives by pub/sub.
        const last = record(sessionId, 3, 'FULFILLED');
        await a.registry.put(last);
        publishChange(a.pubsub, last);
        await readUntilVersion(events, 3, seen, 10_000, 'version 3');
        expect(Math.max(...seen)).toBe(3);
      } finally {
        await events.return?.();
      }
    } finally {
      await a.connections.close();
      await b.connections.close();
    }
  }, 90_000);
});

/**
 * A slot moving to another master (resharding, or a replica taking over): commands follow the MOVED reply
 * instead of failing, and a sharded subscription moves with its channel's slot.
 */
describe('Redis transport on cluster when a slot moves to another master', () => {
  let redis: TestRedis;
  const prefix = uniquePrefix('transport-moved');

  beforeAll(async () => {
    redis = await startRedis('cluster');
  }, 60_000);

  afterAll(async () => {
    await redis?.dispose();
  });

  /** Moves the slot of `key` (and its keys) from its master to another, as `redis-cli --cluster reshard` does. */
  async function moveSlotOf(key: string): Promise<number> {
    const cluster = redis.cluster!;
    const from = await cluster.masterOf(key);
    const to = cluster.ports.find((port) => port !== from)!;
    const [source, target] = [new Redis({ host: '127.0.0.1', port: from }), new Redis({ host: '127.0.0.1', port: to })];
    try {
      const slot = Number(await source.cluster('KEYSLOT', key));
      const [sourceId, targetId] = [String(await source.cluster('MYID')), String(await target.cluster('MYID'))];
      await target.cluster('SETSLOT', slot, 'IMPORTING', sourceId);
      await source.cluster('SETSLOT', slot, 'MIGRATING', targetId);
      const keys = (await source.cluster('GETKEYSINSLOT', slot, 1_000)) as string[];
      if (keys.length > 0) await source.migrate('127.0.0.1', to, '', 0, 5_000, 'KEYS', ...keys);
      for (const port of cluster.ports) {
        const node = new Redis({ host: '127.0.0.1', port });
        await node.cluster('SETSLOT', slot, 'NODE', targetId).finally(() => node.disconnect());
      }
      await waitUntil(async () => (await cluster.masterOf(key)) === to, 10_000);
      return to;
    } finally {
      source.disconnect();
      target.disconnect();
    }
  }

  it('a command follows MOVED to the new master, and the status subscription goes on there', async () => {
    const a = instance(redis.topology, prefix);
    const b = instance(redis.topology, prefix);
    const sessionId = sessionPath('transport-moved');
    try {
      expect(await a.connections.whenConnected(10_000)).toBe(true);
      expect(await b.connections.whenConnected(10_000)).toBe(true);
      await a.registry.put(record(sessionId, 1));
      const events = b.pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator]();
      try {
        expect(versionOf(await nextWithin(events, 5_000, 'catch-up'))).toBe(1);
        const to = await moveSlotOf(a.keyspace.session(sessionId));
        // The clients' slot maps still name the old master: the read is redirected, not refused.
        expect((await a.registry.get(sessionId))?.version).toBe(1);
        expect(await redis.cluster!.masterOf(b.keyspace.statusChannel(sessionId))).toBe(to);
        const changed = record(sessionId, 2, 'FULFILLED');
        await a.registry.put(changed);
        publishChange(a.pubsub, changed);
        // By pub/sub once the subscriber follows the slot, or by its catch-up when it resubscribes there.
        const seen: number[] = [];
        await readUntilVersion(events, 2, seen, 15_000, 'version 2 after the move');
        // And it is live on the new master: a later change arrives too.
        const last = record(sessionId, 3, 'FULFILLED');
        await a.registry.put(last);
        publishChange(a.pubsub, last);
        await readUntilVersion(events, 3, seen, 10_000, 'version 3 after the move');
        expect(Math.max(...seen)).toBe(3);
      } finally {
        await events.return?.();
      }
    } finally {
      await a.connections.close();
      await b.connections.close();
    }
  }, 60_000);
});
