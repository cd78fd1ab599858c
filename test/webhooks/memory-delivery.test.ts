/**
 * Webhooks in memory mode, end to end: a real gateway in front of the emulator, real HTTP receivers on
 * loopback, every call verified with `standardwebhooks`.
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, sessionPath, startTestGateway, TITLE, type TestGateway } from '../support/gateway.js';
import {
  CREATE_ENDPOINT,
  DELIVERIES,
  graphqlWith,
  OPERATOR_KEY,
  OPERATOR_KEY_HASHES,
  REQUEST_CLUSTER,
  ROTATE_SECRET,
  startReceiver,
  type TestReceiver,
} from './receiver.js';

const operator = { 'x-api-key': OPERATOR_KEY };
const TOKEN = AUTH.split(';')[1]!;

interface Created {
  createWebhookEndpoint: { secret: string; endpoint: { id: string; url: string; titleId: string | null; eventTypes: string[]; enabled: boolean } };
}

let gw: TestGateway;
const receivers: TestReceiver[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  gw = await startTestGateway({
    emulator: { capacity: 0, pollIntervalMs: 50 },
    env: {
      GATEWAY_OPERATOR_KEY_HASHES: OPERATOR_KEY_HASHES,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '100ms,100ms',
      WEBHOOK_TIMEOUT_MS: '2000',
    },
  });
});
afterAll(async () => {
  await gw.close();
});
afterEach(async () => {
  // Each test's receivers and endpoints end with it, so one test's events never reach another's receiver.
  const list = await graphqlWith<{ webhookEndpoints: { id: string }[] }>(gw.url, '{ webhookEndpoints { id } }', {}, operator);
  for (const { id } of list.data?.webhookEndpoints ?? []) {
    await graphqlWith(gw.url, 'mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id }, operator);
  }
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  gw.emulator.setCapacity(0);
  gw.emulator.releaseClusters();
});

async function endpointFor(receiver: TestReceiver, variables: Record<string, unknown> = {}) {
  const created = await graphqlWith<Created>(gw.url, CREATE_ENDPOINT, { url: receiver.url, ...variables }, operator);
  expect(created.errors).toBeUndefined();
  receiver.secret = created.data!.createWebhookEndpoint.secret;
  return created.data!.createWebhookEndpoint.endpoint;
}

async function newReceiver() {
  const receiver = await startReceiver();
  receivers.push(receiver);
  return receiver;
}

describe('a queued session that is then fulfilled', () => {
  it('arrives as two verified events, queued then fulfilled, with the session as ClusterStatus shows it', async () => {
    const receiver = await newReceiver();
    const endpoint = await endpointFor(receiver);
    expect(endpoint).toMatchObject({ url: receiver.url, titleId: null, enabled: true });
    expect(endpoint.eventTypes).toEqual(['CLUSTER_QUEUED', 'CLUSTER_FULFILLED', 'CLUSTER_ABORTED', 'CLUSTER_WATCH_TIMEOUT']);
    expect(receiver.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const sessionId = sessionPath('webhook-order');
    expect((await gw.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
    await receiver.waitForCalls(1);
    gw.emulator.setCapacity(1);
    const calls = await receiver.waitForCalls(2);

    expect(calls.map((call) => call.verified?.type)).toEqual(['cluster.queued', 'cluster.fulfilled']);
    expect(new Set(calls.map((call) => call.headers['webhook-id'])).size).toBe(2);
    for (const call of calls) {
      expect(call.headers['content-type']).toBe('application/json');
      expect(call.headers['webhook-signature']).toMatch(/^v1,/);
      expect(Math.abs(Number(call.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(10);
      expect(call.body).not.toContain(TOKEN);
      expect(call.body).not.toContain('XBL3.0');
    }
    const fulfilled = calls[1]!.verified!;
    expect(Object.keys(fulfilled).sort()).toEqual(['data', 'timestamp', 'type']);
    expect(fulfilled.data).toMatchObject({ sessionId, titleId: TITLE, state: 'FULFILLED' });
    expect(Object.keys(fulfilled.data).sort()).toEqual(
      ['correlationId', 'hostName', 'portMappings', 'region', 'requestedAt', 'secureContext', 'sessionId', 'state', 'titleId', 'updatedAt'].sort(),
    );
    expect(typeof fulfilled.data.hostName).toBe('string');
    for (const mapping of fulfilled.data.portMappings as Record<string, unknown>[]) {
      expect(Object.keys(mapping).sort()).toEqual(['externalPort', 'internalPort', 'name']);
    }

    const deliveries = await graphqlWith<{ webhookDeliveries: { eventType: string; state: string; attempts: number; lastStatus: number }[] }>(
      gw.url,
      DELIVERIES,
      { id: endpoint.id },
      operator,
    );
    expect(deliveries.data?.webhookDeliveries.map((d) => [d.eventType, d.state, d.attempts, d.lastStatus])).toEqual([
      ['CLUSTER_FULFILLED', 'DELIVERED', 1, 204],
      ['CLUSTER_QUEUED', 'DELIVERED', 1, 204],
    ]);
  });

  it('goes only to endpoints of its title and event types', async () => {
    const otherTitle = await newReceiver();
    const fulfilledOnly = await newReceiver();
    await endpointFor(otherTitle, { titleId: '42' });
    await endpointFor(fulfilledOnly, { titleId: TITLE, eventTypes: ['CLUSTER_FULFILLED'] });
    gw.emulator.setCapacity(10);
    await gw.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId: sessionPath('webhook-filter') });
    const [call] = await fulfilledOnly.waitForCalls(1);
    expect(call!.verified?.type).toBe('cluster.fulfilled');
    expect(otherTitle.calls).toEqual([]);
  });
});

describe('a receiver that fails', () => {
  it('answering 503 twice gets the same webhook-id a third time, and the delivery reads DELIVERED after 3 attempts', async () => {
    const receiver = await newReceiver();
    const endpoint = await endpointFor(receiver, { eventTypes: ['CLUSTER_QUEUED'] });
    receiver.script = [503, 503];
    await gw.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId: sessionPath('webhook-retry') });
    const calls = await receiver.waitForCalls(3);
    expect(calls.map((call) => call.status)).toEqual([503, 503, 204]);
    expect(new Set(calls.map((call) => call.headers['webhook-id'])).size).toBe(1);
    expect(new Set(calls.map((call) => call.body)).size).toBe(1);
    for (const call of calls) expect(call.verified?.type).toBe('cluster.queued');

    const deliveries = await graphqlWith<{ webhookDeliveries: { eventId: string; state: string; attempts: number; lastStatus: number; nextAttemptAt: string | null }[] }>(
      gw.url,
      DELIVERIES,
      { id: endpoint.id },
      operator,
    );
    expect(deliveries.data?.webhookDeliveries).toEqual([
      expect.objectContaining({ eventId: calls[0]!.headers['webhook-id'], state: 'DELIVERED', attempts: 3, lastStatus: 204, nextAttemptAt: null }),
    ]);
  });

  it('failing every attempt of the schedule reads FAILED; a 410 Gone disables the endpoint', async () => {
    const failing = await newReceiver();
    const gone = await newReceiver();
    const failingEndpoint = await endpointFor(failing, { eventTypes: ['CLUSTER_QUEUED'] });
    const goneEndpoint = await endpointFor(gone, { eventTypes: ['CLUSTER_QUEUED'] });
    failing.script = [500, 500, 500];
    gone.script = [410];
    await gw.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId: sessionPath('webhook-fail') });
    await failing.waitForCalls(3);
    await gone.waitForCalls(1);
    await expect.poll(async () => (await graphqlWith<{ webhookDeliveries: { state: string; attempts: number }[] }>(gw.url, DELIVERIES, { id: failingEndpoint.id }, operator)).data?.webhookDeliveries).toEqual([
      expect.objectContaining({ state: 'FAILED', attempts: 3 }),
    ]);
    const endpoints = await graphqlWith<{ webhookEndpoints: { id: string; enabled: boolean }[] }>(gw.url, '{ webhookEndpoints { id enabled } }', {}, operator);
    expect(endpoints.data?.webhookEndpoints.find((e) => e.id === goneEndpoint.id)?.enabled).toBe(false);
    expect(gone.calls).toHaveLength(1);
  });
});

describe('order and metrics', () => {
  it('a fulfilled event waits for its session\'s queued event to be delivered, retries included', async () => {
    const receiver = await newReceiver();
    // A title of its own: earlier tests' sessions, still queued, are fulfilled too when capacity comes.
    await endpointFor(receiver, { titleId: '4242' });
    receiver.script = [503];
    const sessionId = sessionPath('webhook-order-retry');
    await gw.graphql(REQUEST_CLUSTER, { titleId: '4242', sessionId });
    await receiver.waitForCalls(1);
    gw.emulator.setCapacity(1);
    const calls = await receiver.waitForCalls(3);
    expect(calls.map((call) => [call.verified?.type, call.status])).toEqual([
      ['cluster.queued', 503],
      ['cluster.queued', 204],
      ['cluster.fulfilled', 204],
    ]);
  });

  it('counts attempts by outcome on /metrics, with their duration and what is pending', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/^gsms_webhook_deliveries_total\{outcome="delivered"\} [1-9]\d*$/m);
    expect(text).toMatch(/^gsms_webhook_deliveries_total\{outcome="retry"\} [1-9]\d*$/m);
    expect(text).toMatch(/^gsms_webhook_delivery_duration_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^gsms_webhook_pending 0$/m);
  });
});

describe('rotating the secret', () => {
  it('signs the next events with the new secret only', async () => {
    const receiver = await newReceiver();
    const endpoint = await endpointFor(receiver, { eventTypes: ['CLUSTER_QUEUED'] });
    const oldSecret = receiver.secret;
    await gw.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId: sessionPath('webhook-rotate-1') });
    await receiver.waitForCalls(1);
    const rotated = await graphqlWith<{ rotateWebhookSecret: { secret: string; endpoint: { id: string } } }>(gw.url, ROTATE_SECRET, { id: endpoint.id }, operator);
    const newSecret = rotated.data!.rotateWebhookSecret.secret;
    expect(newSecret).not.toBe(oldSecret);
    receiver.secret = newSecret;
    await gw.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId: sessionPath('webhook-rotate-2') });
    const calls = await receiver.waitForCalls(2);
    // The first verified with the old secret when it arrived; the second verifies with the new one only.
    expect(calls.map((call) => call.verified?.type)).toEqual(['cluster.queued', 'cluster.queued']);
    expect(() => new Webhook(oldSecret).verify(calls[1]!.body, calls[1]!.headers as Record<string, string>)).toThrow(WebhookVerificationError);
    const unknown = await graphqlWith(gw.url, ROTATE_SECRET, { id: 'ep_missing' }, operator);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('who may manage endpoints', () => {
  it('a player is FORBIDDEN, no credential UNAUTHENTICATED, a wrong key UNAUTHENTICATED', async () => {
    const url = 'https://hooks.example.com/gsms';
    const asPlayer = await graphqlWith(gw.url, CREATE_ENDPOINT, { url }, { authorization: AUTH });
    expect(asPlayer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(asPlayer.data).toBeNull();
    const anonymous = await graphqlWith(gw.url, CREATE_ENDPOINT, { url }, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const wrongKey = await graphqlWith(gw.url, CREATE_ENDPOINT, { url }, { 'x-api-key': 'not-the-key' });
    expect(wrongKey.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const list = await graphqlWith(gw.url, '{ webhookEndpoints { id } }', {}, { authorization: AUTH });
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const deliveries = await graphqlWith(gw.url, DELIVERIES, { id: 'ep_x' }, { authorization: AUTH });
    expect(deliveries.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses URLs that are not http(s) or carry credentials', async () => {
    for (const url of ['ftp://hooks.example.com/x', 'https://user:pass@hooks.example.com/x', 'not a url']) {
      const answer = await graphqlWith(gw.url, CREATE_ENDPOINT, { url }, operator);
      expect(answer.errors?.[0]?.extensions?.code, url).toBe('BAD_USER_INPUT');
    }
  });
});

describe('a session still queued when the watch ends', () => {
  it('raises cluster.watch_timeout', async () => {
    const short = await startTestGateway({
      emulator: { capacity: 0, pollIntervalMs: 50 },
      env: { GATEWAY_OPERATOR_KEY_HASHES: OPERATOR_KEY_HASHES, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', GSMS_WATCH_TIMEOUT_MS: '300' },
    });
    try {
      const receiver = await newReceiver();
      const created = await graphqlWith<Created>(short.url, CREATE_ENDPOINT, { url: receiver.url, eventTypes: ['CLUSTER_WATCH_TIMEOUT'] }, operator);
      receiver.secret = created.data!.createWebhookEndpoint.secret;
      const sessionId = sessionPath('webhook-watch-timeout');
      await short.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId });
      const [call] = await receiver.waitForCalls(1);
      expect(call!.verified).toMatchObject({ type: 'cluster.watch_timeout', data: { sessionId, state: 'QUEUED' } });
    } finally {
      await short.close();
    }
  });
});

describe('without WEBHOOK_ALLOW_PRIVATE_NETWORKS', () => {
  let strict: TestGateway;
  beforeAll(async () => {
    strict = await startTestGateway({
      emulator: { capacity: 0, pollIntervalMs: 50 },
      env: { GATEWAY_OPERATOR_KEY_HASHES: OPERATOR_KEY_HASHES, WEBHOOK_RETRY_SCHEDULE: '50ms' },
    });
  });
  afterAll(async () => {
    await strict.close();
  });

  it('refuses loopback, private, link-local, unique-local and multicast addresses at creation', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://172.16.0.1/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[fd00::1]/hook',
      'http://[fe80::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://224.0.0.1/hook',
      'http://0.0.0.0/hook',
      'http://2130706433/hook',
    ]) {
      const answer = await graphqlWith(strict.url, CREATE_ENDPOINT, { url }, operator);
      expect(answer.errors?.[0]?.extensions?.code, url).toBe('BAD_USER_INPUT');
    }
    const publicUrl = await graphqlWith(strict.url, CREATE_ENDPOINT, { url: 'https://203.0.113.7/hook' }, operator);
    expect(publicUrl.errors).toBeUndefined();
  });

  it('a name that resolves to a loopback address is a failed attempt at delivery, and nothing is sent', async () => {
    const receiver = await newReceiver();
    const port = new URL(receiver.url).port;
    // `localhost.` (with the root's dot) passes the creation check, which only looks at literal addresses and
    // the localhost names; it resolves to 127.0.0.1 when the delivery is made.
    const created = await graphqlWith<Created>(strict.url, CREATE_ENDPOINT, { url: `http://localhost.:${port}/hooks`, eventTypes: ['CLUSTER_QUEUED'] }, operator);
    expect(created.errors).toBeUndefined();
    const id = created.data!.createWebhookEndpoint.endpoint.id;
    await strict.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId: sessionPath('webhook-ssrf') });
    await expect
      .poll(async () => (await graphqlWith<{ webhookDeliveries: { state: string; attempts: number; lastStatus: number | null }[] }>(strict.url, DELIVERIES, { id }, operator)).data?.webhookDeliveries, { timeout: 10_000 })
      .toEqual([expect.objectContaining({ state: 'FAILED', attempts: 2, lastStatus: null })]);
    expect(receiver.calls).toEqual([]);
  });
});
