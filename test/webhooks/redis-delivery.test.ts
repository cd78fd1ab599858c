/**
 * Webhooks in Redis mode: two gateway processes on one Redis and one emulator. Events come from the outbox
 * the registry's scripts write, deliveries run on BullMQ; each event reaches a receiver once, and a delivery
 * survives a kill -9 of the instance that was making it.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { AUTH, sessionPath, TITLE } from '../support/gateway.js';
import { startGatewayProcess, stopAllGatewayProcesses, type GatewayProcess } from '../support/gateway-process.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../support/redis.js';
import { CREATE_ENDPOINT, DELIVERIES, graphqlWith, OPERATOR_KEY, OPERATOR_KEY_HASHES, REQUEST_CLUSTER, startReceiver, type TestReceiver } from './receiver.js';

const operator = { 'x-api-key': OPERATOR_KEY };
const TOKEN = AUTH.split(';')[1]!;
/** A title of this file's own, so sessions of one test never match another test's endpoint filter. */
const KILL_TITLE = '777';
const STALL_TITLE = '778';
const ORDER_TITLE = '779';

let redis: { url: string; dispose(): Promise<void> };
let emulator: RunningEmulator;
let a: GatewayProcess;
let b: GatewayProcess;
const prefix = uniquePrefix('webhooks');
const receivers: TestReceiver[] = [];
const secrets: string[] = [];
const killed = new Set<GatewayProcess>();
let env: Record<string, string>;

beforeAll(async () => {
  redis = await sharedRedis();
  emulator = await startEmulator({ capacity: 0, pollIntervalMs: 100 });
  env = {
    GSMS_BASE_URL: emulator.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex'),
    GATEWAY_OPERATOR_KEY_HASHES: OPERATOR_KEY_HASHES,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_RETRY_SCHEDULE: '3s,3s',
    WEBHOOK_TIMEOUT_MS: '60000',
  };
  [a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
}, 90_000);

afterAll(async () => {
  await stopAllGatewayProcesses();
  await Promise.all(receivers.map((r) => r.close()));
  await emulator?.close();
  await deleteKeys(redis.url, prefix);
  await redis?.dispose();
});

afterEach(async () => {
  // Back to two live instances after a test killed one.
  for (const gateway of [a, b]) {
    if (!killed.has(gateway)) continue;
    const restarted = await startGatewayProcess(env);
    if (gateway === a) a = restarted;
    else b = restarted;
  }
  const live = a;
  const list = await graphqlWith<{ webhookEndpoints: { id: string }[] }>(live.url, '{ webhookEndpoints { id } }', {}, operator).catch(() => null);
  for (const { id } of list?.data?.webhookEndpoints ?? []) {
    await graphqlWith(live.url, 'mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id }, operator);
  }
});

async function endpointFor(gateway: GatewayProcess, variables: Record<string, unknown>) {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const created = await graphqlWith<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(
    gateway.url,
    CREATE_ENDPOINT,
    { url: receiver.url, ...variables },
    operator,
  );
  expect(created.errors).toBeUndefined();
  receiver.secret = created.data!.createWebhookEndpoint.secret;
  secrets.push(receiver.secret);
  return { receiver, endpointId: created.data!.createWebhookEndpoint.endpoint.id };
}

async function pendingOn(gateway: GatewayProcess): Promise<number> {
  const response = await fetch(`${gateway.url}/metrics`);
  const match = /^gsms_webhook_pending (\d+)/m.exec(await response.text());
  if (!match) throw new Error('gsms_webhook_pending missing from /metrics');
  return Number(match[1]);
}

/** The instance whose log shows an attempt of this event (the one delivering it). */
function attemptingInstance(eventId: string): GatewayProcess | undefined {
  return [a, b].find((gateway) => gateway.logs.some((entry) => entry.component === 'webhooks' && entry.eventId === eventId));
}

describe('two instances on one Redis', () => {
  it('deliver each event once, each session queued before fulfilled, whichever instance stored the change', async () => {
    const { receiver, endpointId } = await endpointFor(a, { titleId: TITLE });
    // The endpoint is shared: B lists it too.
    const onB = await graphqlWith<{ webhookEndpoints: { id: string }[] }>(b.url, '{ webhookEndpoints { id } }', {}, operator);
    expect(onB.data?.webhookEndpoints.map((e) => e.id)).toEqual([endpointId]);

    const sessions = ['two-1', 'two-2', 'two-3', 'two-4'].map(sessionPath);
    for (const [i, sessionId] of sessions.entries()) {
      const gateway = i % 2 === 0 ? a : b;
      expect((await gateway.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
    }
    await receiver.waitForCalls(sessions.length);
    emulator.setCapacity(10);
    await receiver.waitForCalls(2 * sessions.length);

    // Nothing still waiting or in flight anywhere, so no duplicate is on its way.
    await expect.poll(async () => (await pendingOn(a)) + (await pendingOn(b)), { timeout: 15_000 }).toBe(0);
    expect(receiver.calls).toHaveLength(2 * sessions.length);
    expect(receiver.calls.every((call) => call.verified !== null)).toBe(true);
    expect(new Set(receiver.calls.map((call) => call.headers['webhook-id'])).size).toBe(2 * sessions.length);
    for (const sessionId of sessions) {
      const types = receiver.calls.filter((call) => call.verified!.data.sessionId === sessionId).map((call) => call.verified!.type);
      expect(types, sessionId).toEqual(['cluster.queued', 'cluster.fulfilled']);
    }
    const deliveries = await graphqlWith<{ webhookDeliveries: { state: string; attempts: number }[] }>(b.url, DELIVERIES, { id: endpointId }, operator);
    expect(deliveries.data?.webhookDeliveries).toHaveLength(2 * sessions.length);
    expect(deliveries.data?.webhookDeliveries.every((d) => d.state === 'DELIVERED' && d.attempts === 1)).toBe(true);
  }, 60_000);
});

describe('order across instances and retries', () => {
  it('a session\'s fulfilled event waits until its queued event, retried once, is delivered', async () => {
    emulator.setCapacity(0);
    const { receiver } = await endpointFor(a, { titleId: ORDER_TITLE });
    receiver.script = [503];
    const sessionId = sessionPath('order-retry');
    expect((await b.graphql(REQUEST_CLUSTER, { titleId: ORDER_TITLE, sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
    await receiver.waitForCalls(1);
    // Fulfilled now, while the queued event waits 3 s for its retry.
    emulator.setCapacity(10);
    const calls = await receiver.waitForCalls(3, 30_000);
    expect(calls.map((call) => [call.verified?.type, call.status])).toEqual([
      ['cluster.queued', 503],
      ['cluster.queued', 204],
      ['cluster.fulfilled', 204],
    ]);
  }, 60_000);
});

describe('an instance killed with SIGKILL', () => {
  it('mid-retry: another instance makes the next attempt, with the same webhook-id, and the delivery reads DELIVERED', async () => {
    const { receiver, endpointId } = await endpointFor(a, { titleId: KILL_TITLE });
    receiver.script = [503];
    await a.graphql(REQUEST_CLUSTER, { titleId: KILL_TITLE, sessionId: sessionPath('kill-retry') });
    const [first] = await receiver.waitForCalls(1);
    const eventId = String(first!.headers['webhook-id']);
    // The attempt's log line is written once the 503 is read; then the retry waits 3 s.
    await expect.poll(() => attemptingInstance(eventId), { timeout: 5_000 }).toBeDefined();
    const delivering = attemptingInstance(eventId)!;
    const survivor = delivering === a ? b : a;
    killed.add(delivering);
    await delivering.kill();

    const calls = await receiver.waitForCalls(2, 30_000);
    expect(calls[1]!.headers['webhook-id']).toBe(eventId);
    expect(calls[1]!.verified?.type).toBe(calls[0]!.verified?.type);
    await expect.poll(() => survivor.logs.some((entry) => entry.eventId === eventId && entry.msg === 'webhook delivered')).toBe(true);
    const deliveries = await graphqlWith<{ webhookDeliveries: { eventId: string; state: string; attempts: number }[] }>(survivor.url, DELIVERIES, { id: endpointId }, operator);
    expect(deliveries.data?.webhookDeliveries).toEqual([expect.objectContaining({ eventId, state: 'DELIVERED', attempts: 2 })]);

  }, 60_000);

  it('mid-attempt (the receiver has not answered): another instance sends it again once the job lock runs out', async () => {
    const { receiver, endpointId } = await endpointFor(a, { titleId: STALL_TITLE });
    receiver.script = [-1];
    await a.graphql(REQUEST_CLUSTER, { titleId: STALL_TITLE, sessionId: sessionPath('kill-attempt') });
    const [first] = await receiver.waitForCalls(1);
    const eventId = String(first!.headers['webhook-id']);
    const deliveries = await graphqlWith<{ webhookDeliveries: { state: string; attempts: number }[] }>(a.url, DELIVERIES, { id: endpointId }, operator);
    expect(deliveries.data?.webhookDeliveries).toEqual([expect.objectContaining({ state: 'PENDING', attempts: 0 })]);
    // Which instance holds the open request: the one BullMQ names as the job's worker.
    const inspect = new Redis(redis.url);
    const jobWorker = await inspect.hget(`${prefix}{wh}:webhook-deliveries:${eventId}.${endpointId}`, 'pb').finally(() => inspect.disconnect());
    expect([a.instanceId, b.instanceId]).toContain(jobWorker);
    const delivering = [a, b].find((gateway) => gateway.instanceId === jobWorker) ?? a;
    const survivor = delivering === a ? b : a;
    killed.add(delivering);
    const killedAt = Date.now();
    await delivering.kill();

    const calls = await receiver.waitForCalls(2, 60_000);
    expect(calls[1]!.headers['webhook-id']).toBe(eventId);
    // The job lock (10 s) runs out and the next stalled check (every 5 s) hands the job on.
    expect(calls[1]!.receivedAt - killedAt).toBeLessThan(30_000);
    expect(calls[1]!.verified?.type).toBe(calls[0]!.verified?.type);
    await expect
      .poll(async () => (await graphqlWith<{ webhookDeliveries: { state: string }[] }>(survivor.url, DELIVERIES, { id: endpointId }, operator)).data?.webhookDeliveries[0]?.state)
      .toBe('DELIVERED');
  }, 90_000);
});

describe('secrets and tokens', () => {
  it('no payload or log line carries a token or a signing secret, and Redis holds secrets only sealed', async () => {
    for (const receiver of receivers) {
      for (const call of receiver.calls) {
        expect(call.body).not.toContain(TOKEN);
        expect(call.body).not.toContain('XBL3.0');
      }
    }
    const logs = JSON.stringify([...a.logs, ...b.logs]);
    expect(logs).not.toContain(TOKEN);
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.slice('whsec_'.length));
    }
    const inspect = new Redis(redis.url);
    try {
      const sealed = Object.values(await inspect.hgetall(`${prefix}{wh}:secrets`)).join('\n');
      for (const secret of secrets.slice(0, 1)) expect(sealed).not.toContain(secret.slice('whsec_'.length));
      for (const key of await inspect.keys(`${prefix}{wh}*`)) {
        const type = await inspect.type(key);
        const dump = type === 'hash' ? JSON.stringify(await inspect.hgetall(key)) : type === 'string' ? await inspect.get(key) : '';
        expect(dump, key).not.toContain(TOKEN);
        for (const secret of secrets) expect(dump, key).not.toContain(secret.slice('whsec_'.length));
      }
    } finally {
      inspect.disconnect();
    }
  });
});
