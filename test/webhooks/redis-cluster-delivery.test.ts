/**
 * Webhooks on a 3-master Redis Cluster (REDIS_CLUSTER_NODES): the outbox streams of all 16 buckets spread
 * over the masters, the endpoint keys and the BullMQ queue under the `{wh}` hash tag on one of them. Two gateway
 * processes deliver each event once, retries included.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { sessionPath, TITLE } from '../support/gateway.js';
import { startGatewayProcess, stopAllGatewayProcesses, type GatewayProcess } from '../support/gateway-process.js';
import { uniquePrefix } from '../support/redis.js';
import { startRedis, type TestRedis } from '../scale-out/topologies.js';
import { bucketOf } from '../../src/clusters/redis-keyspace.js';
import { CREATE_ENDPOINT, DELIVERIES, graphqlWith, OPERATOR_KEY, OPERATOR_KEY_HASHES, REQUEST_CLUSTER, startReceiver, type TestReceiver } from './receiver.js';

const operator = { 'x-api-key': OPERATOR_KEY };

let redis: TestRedis;
let emulator: RunningEmulator;
let gateways: GatewayProcess[];
let receiver: TestReceiver;

beforeAll(async () => {
  redis = await startRedis('cluster');
  emulator = await startEmulator({ capacity: 0, pollIntervalMs: 100 });
  receiver = await startReceiver();
  const env = {
    ...redis.env,
    GSMS_BASE_URL: emulator.url,
    REDIS_KEY_PREFIX: uniquePrefix('webhooks-cluster'),
    GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex'),
    GATEWAY_OPERATOR_KEY_HASHES: OPERATOR_KEY_HASHES,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_RETRY_SCHEDULE: '500ms',
  };
  gateways = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
}, 120_000);

afterAll(async () => {
  await stopAllGatewayProcesses();
  await receiver?.close();
  await emulator?.close();
  await redis?.dispose();
});

describe('two instances on a Redis Cluster', () => {
  it('deliver each event of sessions in many buckets once, in order per session, a 503 retried with the same webhook-id', async () => {
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
    const created = await graphqlWith<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(
      a.url,
      CREATE_ENDPOINT,
      { url: receiver.url, titleId: TITLE },
      operator,
    );
    expect(created.errors).toBeUndefined();
    receiver.secret = created.data!.createWebhookEndpoint.secret;
    receiver.script = [503];

    const sessions = Array.from({ length: 8 }, (_, i) => sessionPath(`cluster-${i}`));
    expect(new Set(sessions.map((sessionId) => bucketOf(sessionId))).size).toBeGreaterThan(3);
    for (const [i, sessionId] of sessions.entries()) {
      expect((await (i % 2 ? b : a).graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
    }
    // Every queued event, plus the one retry of the first call's 503.
    await receiver.waitForCalls(sessions.length + 1, 30_000);
    emulator.setCapacity(100);
    await receiver.waitForCalls(2 * sessions.length + 1, 30_000);

    const first = receiver.calls[0]!;
    expect(first.status).toBe(503);
    expect(receiver.calls.filter((call) => call.headers['webhook-id'] === first.headers['webhook-id'])).toHaveLength(2);
    expect(receiver.calls.every((call) => call.verified !== null)).toBe(true);
    expect(new Set(receiver.calls.map((call) => call.headers['webhook-id'])).size).toBe(2 * sessions.length);
    await expect
      .poll(async () => {
        const now = await graphqlWith<{ webhookDeliveries: { state: string }[] }>(b.url, DELIVERIES, { id: created.data!.createWebhookEndpoint.endpoint.id, last: 50 }, operator);
        return now.data?.webhookDeliveries.filter((d) => d.state === 'DELIVERED').length;
      })
      .toBe(2 * sessions.length);
    // No duplicate arrived while the last deliveries were being recorded.
    expect(receiver.calls).toHaveLength(2 * sessions.length + 1);
    for (const sessionId of sessions) {
      const types = receiver.calls
        .filter((call) => call.verified!.data.sessionId === sessionId && call.status !== 503)
        .map((call) => call.verified!.type);
      expect(types, sessionId).toEqual(['cluster.queued', 'cluster.fulfilled']);
    }
    // The outbox reads, claims and consumer clean-up all ran on the cluster without an error.
    for (const gateway of gateways) {
      expect(gateway.logs.filter((entry) => entry.component === 'webhooks' && /outbox|queue error/.test(String(entry.msg)))).toEqual([]);
    }
  }, 120_000);
});
