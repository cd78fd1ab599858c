/**
 * The shared registry and poll store on a real Redis, each instance on its own connection as separate
 * processes would be: writes that never lose or repeat a version, one owner per queued session, a write
 * that reserves the next post, adoption of a dead instance's sessions, counts without reading records, and
 * the outbox written with the change.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialCipher } from '../../src/clusters/credential-cipher.js';
import { BUCKET_TAGS, bucketTagOf, RedisKeyspace } from '../../src/clusters/redis-keyspace.js';
import { RedisPollStore } from '../../src/clusters/redis-poll-store.js';
import { RedisClusterRegistry } from '../../src/clusters/redis-registry.js';
import type { ClusterStateEvent } from '../../src/clusters/state-events.js';
import type { ClusterAnswer } from '../../src/gsms/wire.js';
import { sessionPath } from '../support/gateway.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../support/redis.js';

const queued: ClusterAnswer = { state: 'QUEUED', pollIntervalMs: 200, hostName: null, region: null, portMappings: [], secureContext: null, correlationId: 'c-1' };
const fulfilled: ClusterAnswer = { ...queued, state: 'FULFILLED', hostName: 'host-1', region: 'WestUS' };
const elsewhere = (n: number): ClusterAnswer => ({ ...queued, hostName: `host-${n}` });
const request = (sessionId: string, requester = 'p1', answer = queued) => ({
  sessionId,
  titleId: '1',
  answer,
  requester,
  credential: `XBL3.0 x=${requester};secret-of-${requester}`,
});

let redis: { url: string; dispose(): Promise<void> };
const clients: Redis[] = [];
const prefix = uniquePrefix('store');
const key = randomBytes(32);
const keys = new RedisKeyspace(prefix);

beforeAll(async () => {
  redis = await sharedRedis();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await deleteKeys(redis.url, prefix);
  await redis?.dispose();
});

/** One gateway instance's view: its own connection, registry and poll store. */
function instance(id: string, heartbeatTtlMs = 3_000) {
  const client = new Redis(redis.url);
  clients.push(client);
  const events: ClusterStateEvent[] = [];
  const cipher = new CredentialCipher(key);
  const registry = new RedisClusterRegistry({
    redis: client,
    keyPrefix: prefix,
    cipher,
    instanceId: id,
    retentionMs: 60_000,
    watchTimeoutMs: 60_000,
    outbox: true,
    onStateEvent: (event) => events.push(event),
  });
  const store = new RedisPollStore({ redis: client, registry, cipher, heartbeatTtlMs, outbox: true });
  return { client, registry, store, events };
}

const next = { postAt: Date.now() + 1_000, notBefore: Date.now() + 2_000 };

describe('shared registry', () => {
  it('concurrent requests from three instances each apply once: no version lost, repeated or going backwards', async () => {
    const [a, b, c] = [instance('a'), instance('b'), instance('c')];
    const sessionId = sessionPath('cas-1');
    await a.registry.recordRequest(request(sessionId));
    // 30 requests at once, each a change (a new host name), spread over the three instances.
    const updates = await Promise.all(
      Array.from({ length: 30 }, (_, i) => [a, b, c][i % 3]!.registry.recordRequest({ ...request(sessionId), answer: elsewhere(i) })),
    );
    const versions = updates.map((u) => u.record.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    expect(await b.registry.get(sessionId)).toMatchObject({ version: 31, pollCount: 31 });
  });

  it('a second requester on another instance is added; the credential is sealed and the newest polls', async () => {
    const [a, b] = [instance('a'), instance('b')];
    const sessionId = sessionPath('two-requesters');
    await a.registry.recordRequest(request(sessionId, 'p1'));
    await b.registry.recordRequest(request(sessionId, 'p2'));
    expect((await a.registry.get(sessionId))?.requesters).toEqual(['p1', 'p2']);
    const stored = await a.client.hgetall(keys.session(sessionId));
    expect(JSON.stringify(stored)).not.toContain('secret-of');
    // a asked first, so a polls it, with the most recent requester's credential.
    expect(await b.store.open(sessionId)).toBeNull();
    expect((await a.store.open(sessionId))?.credential).toBe('XBL3.0 x=p2;secret-of-p2');
  });

  it('counts by state without reading records, and lists the same from any instance', async () => {
    const [a, b] = [instance('a'), instance('b')];
    const before = await a.registry.countByState();
    await a.registry.recordRequest(request(sessionPath('count-1')));
    await b.registry.recordRequest(request(sessionPath('count-2'), 'p1', fulfilled));
    expect(await b.registry.countByState()).toEqual({ ...before, QUEUED: before.QUEUED + 1, FULFILLED: before.FULFILLED + 1 });
    expect(await a.registry.list({ state: 'FULFILLED' })).toEqual(await b.registry.list({ state: 'FULFILLED' }));
    expect((await a.registry.list({})).map((r) => r.sessionId)).toEqual(expect.arrayContaining([sessionPath('count-1'), sessionPath('count-2')]));
  });

  it('a queued, watched record lives until its watch ends; a settled one for the retention only', async () => {
    const { registry, client } = instance('a');
    await registry.recordRequest(request(sessionPath('ttl-queued')));
    await registry.recordRequest(request(sessionPath('ttl-settled'), 'p1', fulfilled));
    expect(await client.pttl(keys.session(sessionPath('ttl-settled')))).toBeLessThanOrEqual(60_000);
    expect(await client.pttl(keys.session(sessionPath('ttl-queued')))).toBeGreaterThan(110_000);
  });
});

describe('poll store', () => {
  it('the write that records an answer reserves the next post; a change of state is one event, in the outbox too', async () => {
    const a = instance('a');
    const sessionId = sessionPath('reserve-1');
    await a.registry.recordRequest(request(sessionId));
    const ticket = (await a.store.open(sessionId))!;
    const outcome = await a.store.recordPoll(ticket, queued, next);
    expect(outcome).not.toBe('stale');
    if (outcome === 'stale') return;
    expect(outcome.ticket?.reservedAt).toBe(next.postAt);
    expect(await a.client.hget(keys.session(sessionId), 'nb')).toBe(String(next.notBefore));
    const settled = await a.store.recordPoll(outcome.ticket!, fulfilled, next);
    expect(settled !== 'stale' && settled.ticket).toBeNull();
    expect(a.events.filter((e) => e.record.sessionId === sessionId).map((e) => e.type)).toEqual(['cluster.queued', 'cluster.fulfilled']);
    const outbox = await a.client.xrange(keys.outbox(bucketTagOf(sessionId)), '-', '+');
    const types = outbox.map(([, fields]) => JSON.parse(fields[1]!) as ClusterStateEvent).filter((e) => e.record.sessionId === sessionId).map((e) => e.type);
    expect(types).toEqual(['cluster.queued', 'cluster.fulfilled']);
    // Settled: nobody owns it, and the owner's held set forgot it.
    expect(await a.client.hget(keys.session(sessionId), 'owner')).toBeNull();
    expect(await a.client.sismember(keys.held(bucketTagOf(sessionId), 'a'), sessionId)).toBe(0);
  });

  it('while the heartbeat is fresh, an unchanged answer is not written; a change is, at once', async () => {
    const a = instance('fresh', 300);
    const sessionId = sessionPath('lazy-1');
    // A heartbeat fresh for longer than its time: a first beat (like a return from a lapse) proves every post
    // for one heartbeat time, in case another instance was adopting meanwhile.
    for (const until = Date.now() + 400; Date.now() < until; ) {
      await a.store.tick();
      await new Promise((resolve) => setTimeout(resolve, a.store.heartbeatMs));
    }
    await a.store.tick();
    await a.registry.recordRequest(request(sessionId));
    const ticket = (await a.store.open(sessionId))!;
    const revBefore = await a.client.hget(keys.session(sessionId), 'rev');
    const unchanged = await a.store.recordPoll(ticket, queued, next);
    expect(unchanged !== 'stale' && unchanged.ticket?.reservedAt).toBe(next.postAt);
    expect(await a.client.hget(keys.session(sessionId), 'rev')).toBe(revBefore);
    expect(a.store.mayPost(ticket)).toBe(true);
    const changed = await a.store.recordPoll(ticket, elsewhere(7), next);
    expect(changed !== 'stale' && changed.update.changed).toBe(true);
    expect(Number(await a.client.hget(keys.session(sessionId), 'rev'))).toBe(Number(revBefore) + 1);
    expect((await a.registry.get(sessionId))?.hostName).toBe('host-7');
  });

  it('a write planned on a record another request changed is refused as stale', async () => {
    const [a, b] = [instance('a'), instance('b')];
    const sessionId = sessionPath('stale-1');
    await a.registry.recordRequest(request(sessionId));
    const ticket = (await a.store.open(sessionId))!;
    await b.registry.recordRequest(request(sessionId, 'p2'));
    expect(await a.store.recordPoll(ticket, queued, next)).toBe('stale');
    expect(await a.store.reserve(ticket, next)).toBe('stale');
    expect(await b.store.reserve(ticket, next)).toBe('lost');
  });

  it("a dead instance's sessions are adopted at the next beat after its heartbeat runs out; it cannot write as owner after", async () => {
    const [a, b] = [instance('dying', 300), instance('survivor', 300)];
    const sessions = Array.from({ length: 20 }, (_, i) => sessionPath(`adopt-${i}`));
    await a.store.tick();
    for (const sessionId of sessions) await a.registry.recordRequest(request(sessionId));
    const tickets = await Promise.all(sessions.map((id) => a.store.open(id)));
    expect(tickets.every(Boolean)).toBe(true);
    // a stops beating; b keeps beating until it has adopted them all.
    const adopted: string[] = [];
    const deadline = Date.now() + 5_000;
    while (adopted.length < sessions.length && Date.now() < deadline) {
      // Only this test's sessions: an earlier test's instance may die in the same keyspace meanwhile.
      adopted.push(...(await b.store.tick()).filter((id) => sessions.includes(id)));
      await new Promise((resolve) => setTimeout(resolve, b.store.heartbeatMs));
    }
    expect(adopted.sort()).toEqual([...sessions].sort());
    expect(await b.store.open(sessions[0]!)).not.toBeNull();
    const late = await a.store.recordPoll(tickets[0]!, queued, next);
    expect(late !== 'stale' && late.ticket).toBeNull();
    // Nothing is left in the dead instance's held sets.
    for (const tag of BUCKET_TAGS) expect(await a.client.exists(keys.held(tag, 'dying'))).toBe(0);
  });

  it('the end of a watch frees the session and is an event in the outbox; a request meanwhile makes it stale instead', async () => {
    const a = instance('a');
    const sessionId = sessionPath('watch-end');
    await a.registry.recordRequest(request(sessionId));
    const ticket = (await a.store.open(sessionId))!;
    expect(await a.store.endWatch(ticket)).toBe('ended');
    expect(await a.store.open(sessionId)).toBeNull();
    const outbox = await a.client.xrange(keys.outbox(bucketTagOf(sessionId)), '-', '+');
    expect(outbox.map(([, fields]) => JSON.parse(fields[1]!) as ClusterStateEvent).filter((e) => e.record.sessionId === sessionId).map((e) => e.type)).toEqual([
      'cluster.queued',
      'cluster.watch_timeout',
    ]);
    // Requested again: a new watch, polled by the instance that took the request.
    await a.registry.recordRequest(request(sessionId));
    const renewed = (await a.store.open(sessionId))!;
    await a.registry.recordRequest(request(sessionId, 'p2'));
    expect(await a.store.endWatch(renewed)).toBe('stale');
  });
});
