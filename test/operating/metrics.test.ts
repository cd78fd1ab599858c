/**
 * `GET /metrics`: the names an operator's dashboards rely on, counters that move with traffic, histogram
 * buckets, and gauges that follow sessions, pollers, subscriptions and sockets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, collectWs, sessionPath, startTestGateway, TITLE, type TestGateway } from '../support/gateway.js';
import { buckets, scrape } from './prometheus-text.js';
import { closedPort } from '../support/ports.js';

const REQUEST = 'mutation ($sessionId: String!) { requestCluster(titleId: "1234567890", sessionId: $sessionId) }';
const FOLLOW = 'subscription ($sessionId: String!) { clusterStatus(sessionId: $sessionId) { state } }';

const gateways: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()));
});

async function gateway(options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  gateways.push(gw);
  return gw;
}

/** Scrapes until `predicate` holds (gauges change when a socket closes, a little after the client returns). */
async function scrapeUntil(url: string, predicate: (s: Awaited<ReturnType<typeof scrape>>) => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const scraped = await scrape(url);
    if (predicate(scraped) || Date.now() > deadline) return scraped;
    await sleep(25);
  }
}

describe('GET /metrics', () => {
  it('serves the Prometheus text format with our metrics and the GraphQL operation metrics', async () => {
    const gw = await gateway();
    await gw.graphql(REQUEST, { sessionId: sessionPath('names-1') });
    const scraped = await scrape(gw.url);
    expect(scraped.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(Object.fromEntries([...scraped.types].filter(([name]) => name.startsWith('gsms_')))).toEqual({
      gsms_upstream_requests_total: 'counter',
      gsms_upstream_request_duration_seconds: 'histogram',
      gsms_upstream_retries_total: 'counter',
      gsms_polls_total: 'counter',
      gsms_poll_lag_seconds: 'histogram',
      gsms_open_subscriptions: 'gauge',
      gsms_subscriptions_total: 'counter',
      gsms_websocket_connections: 'gauge',
      gsms_active_pollers: 'gauge',
      gsms_sessions: 'gauge',
      gsms_webhook_deliveries_total: 'counter',
      gsms_webhook_delivery_duration_seconds: 'histogram',
      gsms_webhook_pending: 'gauge',
    });
    for (const name of ['graphql_envelop_request', 'graphql_envelop_request_duration', 'graphql_envelop_error_result', 'graphql_yoga_http_duration', 'nodejs_eventloop_lag_seconds', 'process_cpu_seconds_total']) {
      expect(scraped.types.has(name), name).toBe(true);
    }
    // The request URL is not a label: it would make one series per query string.
    expect(scraped.text).not.toMatch(/url="/);
  });

  it('counts upstream attempts by status and attempt, with a latency histogram', async () => {
    const gw = await gateway();
    const before = await scrape(gw.url);
    const ok = 'gsms_upstream_requests_total{status="200",attempt="1"}';
    await gw.graphql(REQUEST, { sessionId: sessionPath('count-1') });
    await gw.graphql(REQUEST, { sessionId: sessionPath('count-2') });
    const after = await scrape(gw.url);
    expect(after.value(ok) - before.value(ok)).toBe(2);
    expect(after.value('gsms_upstream_request_duration_seconds_count{status="200"}')).toBe(2);

    const histogram = buckets(after, 'gsms_upstream_request_duration_seconds', 'status="200"');
    expect(histogram.map((b) => b.le)).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
    // Cumulative: never decreasing, and +Inf holds every observation.
    expect(histogram.map((b) => b.count)).toEqual([...histogram.map((b) => b.count)].sort((a, b) => a - b));
    expect(histogram.at(-1)!.count).toBe(2);
    expect(after.value('graphql_envelop_request{operationName="Anonymous",operationType="mutation"}')).toBe(2);
  });

  it('counts retries by reason, and the retried attempt under its number', async () => {
    const gw = await gateway();
    gw.emulator.injectFaults([503]);
    expect((await gw.graphql(REQUEST, { sessionId: sessionPath('retry-1') })).data).toEqual({ requestCluster: 'FULFILLED' });
    const scraped = await scrape(gw.url);
    expect(scraped.value('gsms_upstream_retries_total{reason="status 503"}')).toBe(1);
    expect(scraped.value('gsms_upstream_requests_total{status="503",attempt="1"}')).toBe(1);
    expect(scraped.value('gsms_upstream_requests_total{status="200",attempt="2"}')).toBe(1);
  });

  it('follows sessions by state, active pollers, polls and poll lag', async () => {
    const gw = await gateway({ emulator: { capacity: 1, pollIntervalMs: 100 } });
    await gw.graphql(REQUEST, { sessionId: sessionPath('holder') });
    expect((await gw.graphql(REQUEST, { sessionId: sessionPath('waiting') })).data).toEqual({ requestCluster: 'QUEUED' });
    const queued = await scrapeUntil(gw.url, (s) => s.value('gsms_polls_total{outcome="unchanged"}') >= 1);
    expect(queued.value('gsms_sessions{state="QUEUED"}')).toBe(1);
    expect(queued.value('gsms_sessions{state="FULFILLED"}')).toBe(1);
    expect(queued.value('gsms_sessions{state="ABORTED"}')).toBe(0);
    expect(queued.value('gsms_active_pollers')).toBe(1);

    gw.emulator.releaseClusters(TITLE);
    const settled = await scrapeUntil(gw.url, (s) => s.value('gsms_sessions{state="FULFILLED"}') === 2 && s.value('gsms_active_pollers') === 0);
    expect(settled.value('gsms_sessions{state="QUEUED"}')).toBe(0);
    expect(settled.value('gsms_active_pollers')).toBe(0);
    expect(settled.value('gsms_polls_total{outcome="changed"}')).toBe(1);
    const polls = settled.value('gsms_polls_total{outcome="changed"}') + settled.value('gsms_polls_total{outcome="unchanged"}');
    expect(settled.value('gsms_poll_lag_seconds_count')).toBe(polls);
    expect(buckets(settled, 'gsms_poll_lag_seconds').at(-1)!.count).toBe(polls);
  });

  it('counts open subscriptions (graphql-ws and SSE) and WebSocket connections, down to zero when they end', async () => {
    const gw = await gateway({ emulator: { capacity: 0, pollIntervalMs: 100 } });
    const sessionId = sessionPath('watched');
    await gw.graphql(REQUEST, { sessionId });
    const client = gw.wsClient();
    const first = new Promise<void>((resolve) => void collectWs(client, FOLLOW, { sessionId }, () => resolve()));
    await first;
    const sse = new AbortController();
    const sseResponse = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: AUTH },
      body: JSON.stringify({ query: FOLLOW, variables: { sessionId } }),
      signal: sse.signal,
    });
    await sseResponse.body!.getReader().read();

    const open = await scrapeUntil(gw.url, (s) => s.value('gsms_open_subscriptions') === 2);
    expect(open.value('gsms_open_subscriptions')).toBe(2);
    expect(open.value('gsms_websocket_connections')).toBe(1);
    expect(open.value('gsms_subscriptions_total{outcome="streaming"}')).toBe(2);

    sse.abort();
    await client.dispose();
    const closed = await scrapeUntil(gw.url, (s) => s.value('gsms_open_subscriptions') === 0 && s.value('gsms_websocket_connections') === 0);
    expect(closed.value('gsms_open_subscriptions')).toBe(0);
    expect(closed.value('gsms_websocket_connections')).toBe(0);
  });

  it('keeps each gateway in its own registry (two in one process do not mix)', async () => {
    const [one, two] = [await gateway(), await gateway()];
    await one.graphql(REQUEST, { sessionId: sessionPath('mine') });
    expect((await scrape(one.url)).value('gsms_upstream_requests_total{status="200",attempt="1"}')).toBe(1);
    expect((await scrape(two.url)).value('gsms_upstream_requests_total{status="200",attempt="1"}')).toBe(0);
  });
});

describe('GET /metrics while the registry is unreachable', () => {
  it('still answers (Redis configured but down), and /ready names redis', async () => {
    const gw = await gateway({
      env: {
        REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
        GSMS_CREDENTIAL_KEY: '0'.repeat(64),
        REDIS_COMMAND_TIMEOUT_MS: '200',
      },
    });
    const scraped = await scrape(gw.url);
    expect(scraped.types.get('gsms_sessions')).toBe('gauge');
    expect(scraped.types.get('gsms_upstream_requests_total')).toBe('counter');
    const ready = await request(`${gw.url}/ready`);
    expect(ready.statusCode).toBe(503);
    expect(await ready.body.json()).toMatchObject({ ready: false, checks: { upstream: true, redis: false } });
  });
});

