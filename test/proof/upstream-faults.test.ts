/**
 * Proof under upstream faults: a gateway in front of a deliberately broken GSMS and of the emulator with
 * injected faults. Callers get the right code within the retry budget, pollers keep going through bad
 * answers, and once everything is closed no socket or timer is left behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/gsms/emulator/server.js';
import { startBrokenUpstream, type Behaviour, type BrokenUpstream } from '../support/broken-upstream.js';
import { AUTH, collectWs, sessionPath, type GraphQLResponse } from '../support/gateway.js';
import { errorCodes, FAST_FAIL_ENV, startProofGateway, type ProofGateway } from './proof-gateway.js';
import { eventually, openResources, waitForResourcesBackTo } from './resources.js';

const REQUEST = 'mutation ($titleId: ID!, $sessionId: String!) { requestCluster(titleId: $titleId, sessionId: $sessionId) }';
const FOLLOW = 'subscription ($sessionId: String!) { clusterStatus(sessionId: $sessionId) { state pollCount } }';
type Follow = { clusterStatus: { state: string; pollCount: number } };

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0).reverse()) await dispose();
});

async function brokenSetup(env: Record<string, string> = {}): Promise<{ upstream: BrokenUpstream; gateway: ProofGateway }> {
  const upstream = await startBrokenUpstream();
  cleanup.push(() => upstream.close());
  const gateway = await startProofGateway(upstream.url, { env: { ...FAST_FAIL_ENV, ...env } });
  cleanup.push(() => gateway.close());
  return { upstream, gateway };
}

/** What a caller sees for each way the upstream can break (retry budget 1.2 s, 300 ms per try). */
const CASES: { behaviour: Behaviour; code: string; name: string }[] = [
  { name: 'slow past the timeout', behaviour: 'slow', code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'connection reset', behaviour: 'reset', code: 'UPSTREAM_UNAVAILABLE' },
  // The connection drops mid-answer: a transport failure like a reset, so "try again later".
  { name: 'truncated body', behaviour: 'truncated', code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'non-JSON body', behaviour: 'non-json', code: 'UPSTREAM_ERROR' },
  { name: 'unknown fulfillmentState', behaviour: 'unknown-state', code: 'UPSTREAM_ERROR' },
  { name: 'a 200 without a body', behaviour: 'empty-200', code: 'UPSTREAM_ERROR' },
  { name: '503 on every try', behaviour: { status: 503 }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: '500 on every try', behaviour: { status: 500 }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: '401', behaviour: { status: 401 }, code: 'UNAUTHENTICATED' },
  { name: '403', behaviour: { status: 403 }, code: 'FORBIDDEN' },
  { name: '400', behaviour: { status: 400 }, code: 'BAD_USER_INPUT' },
  { name: '404', behaviour: { status: 404 }, code: 'UPSTREAM_ERROR' },
];

describe('a broken upstream: callers get the right code, fast', () => {
  it.each(CASES)('$name → $code', async ({ behaviour, code }) => {
    const { upstream, gateway } = await brokenSetup();
    upstream.setTitle('1001', behaviour);
    const startedAt = performance.now();
    const response = await gateway.graphql(REQUEST, { titleId: '1001', sessionId: sessionPath('broken-1') });
    const elapsedMs = performance.now() - startedAt;

    expect(response.status).toBe(200);
    expect(response.data).toBeNull();
    expect(errorCodes(response)).toEqual([code]);
    // Bounded by the retry budget (1.2 s); the slack is for a loaded machine, the point is "not 30 s".
    expect(elapsedMs).toBeLessThan(6_000);
    expect(JSON.stringify(response)).not.toContain('token-one-secret');
    // A failed request leaves no record behind: the session is unknown, not stuck.
    const lookup = await gateway.graphql('query ($s: String!) { cluster(sessionId: $s) { state } }', { s: sessionPath('broken-1') });
    expect(errorCodes(lookup)).toEqual(['NOT_FOUND']);
  });

  it('an upstream that is not listening at all → UPSTREAM_UNAVAILABLE', async () => {
    const upstream = await startBrokenUpstream();
    const deadUrl = upstream.url;
    await upstream.close();
    const gateway = await startProofGateway(deadUrl, { env: FAST_FAIL_ENV });
    cleanup.push(() => gateway.close());
    const response = await gateway.graphql(REQUEST, { titleId: '1001', sessionId: sessionPath('nobody-home') });
    expect(errorCodes(response)).toEqual(['UPSTREAM_UNAVAILABLE']);
  });

  it('a fault that clears within the retry budget is invisible to the caller', async () => {
    const { upstream, gateway } = await brokenSetup({ GSMS_RETRY_MAX_TOTAL_MS: '5000' });
    upstream.queue('reset', { status: 503 }, 'slow', { status: 502 });
    upstream.setDefault('fulfilled');
    const response = await gateway.graphql(REQUEST, { titleId: '1001', sessionId: sessionPath('heals') });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ requestCluster: 'FULFILLED' });
    expect(upstream.requests).toHaveLength(5);
  });
});

describe('a queued session’s poller survives bad answers', () => {
  it('keeps polling through every kind of broken answer, then settles once GSMS is good again', async () => {
    const { upstream, gateway } = await brokenSetup();
    const sessionId = sessionPath('survivor');
    upstream.setTitle('2002', 'queued');
    expect((await gateway.graphql(REQUEST, { titleId: '2002', sessionId })).data).toEqual({ requestCluster: 'QUEUED' });

    const bad: Behaviour[] = ['non-json', 'unknown-state', 'empty-200', 'truncated', 'reset', 'slow', { status: 500 }, { status: 404 }];
    const client = gateway.wsClient();
    let sawQueued!: () => void;
    const queuedSeen = new Promise<void>((resolve) => (sawQueued = resolve));
    const follow = collectWs<Follow>(client, FOLLOW, { sessionId }, (r) => {
      if (r.data?.clusterStatus.state === 'QUEUED') sawQueued();
    });
    await queuedSeen;

    // Each bad behaviour is answered to at least one poll of this session.
    for (const behaviour of bad) {
      upstream.setTitle('2002', behaviour);
      const since = Date.now();
      await upstream.waitForRequest((r) => r.sessionId === sessionId && r.behaviour === behaviour, { since });
    }
    expect(gateway.app.services.poller.isWatching(sessionId)).toBe(true);

    upstream.setTitle('2002', 'fulfilled');
    const { results, error } = await follow;
    expect(error).toBeUndefined();
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    expect(results.map((r) => r.data?.clusterStatus.state)).toEqual(['QUEUED', 'FULFILLED']);
    expect(gateway.app.services.poller.activeCount).toBe(0);
  });

  it('with the emulator at a 50% fault rate, 20 queued sessions still all reach FULFILLED', async () => {
    const emulator = await startEmulator({ capacity: 0, pollIntervalMs: 100 });
    cleanup.push(() => emulator.close());
    const gateway = await startProofGateway(emulator.url, { env: { GSMS_POLL_MAX_BACKOFF_MS: '400' } });
    cleanup.push(() => gateway.close());
    const sessions = Array.from({ length: 20 }, (_, i) => sessionPath(`faulty-${i}`));
    for (const sessionId of sessions) {
      expect((await gateway.graphql(REQUEST, { titleId: '3003', sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
    }
    emulator.setFaultRate(0.5);
    const client = gateway.wsClient();
    const follows = sessions.map((sessionId) => collectWs<Follow>(client, FOLLOW, { sessionId }));
    await emulator.waitForRequest((r) => r.status >= 500);
    emulator.setCapacity(20);
    const outcomes = await Promise.all(follows);
    for (const { results, error } of outcomes) {
      expect(error).toBeUndefined();
      expect(results.at(-1)?.data?.clusterStatus.state).toBe('FULFILLED');
    }
  });

  it('the emulator failing every try of a request → UPSTREAM_UNAVAILABLE with its correlation id; the next request works', async () => {
    const emulator = await startEmulator({ capacity: 5, pollIntervalMs: 100 });
    cleanup.push(() => emulator.close());
    const gateway = await startProofGateway(emulator.url, { env: { GSMS_RETRY_MAX_ATTEMPTS: '3' } });
    cleanup.push(() => gateway.close());
    emulator.injectFaults([503, 500, 504], '0');
    const failed = await gateway.graphql(REQUEST, { titleId: '4004', sessionId: sessionPath('injected') });
    expect(errorCodes(failed)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(failed.errors?.[0]?.extensions?.upstreamStatus).toBe(504);
    const ok = await gateway.graphql(REQUEST, { titleId: '4004', sessionId: sessionPath('injected') });
    expect(ok.data).toEqual({ requestCluster: 'FULFILLED' });
  });
});

describe('nothing leaks', () => {
  it('after a storm of broken answers, requests and subscriptions, closing leaves no socket or timer behind', async () => {
    const baseline = openResources();
    const upstream = await startBrokenUpstream();
    const gateway = await startProofGateway(upstream.url, { env: FAST_FAIL_ENV });

    const behaviours = CASES.map((c) => c.behaviour);
    const calls: Promise<GraphQLResponse>[] = [];
    for (let round = 0; round < 3; round += 1) {
      behaviours.forEach((behaviour, i) => {
        const titleId = String(5000 + i);
        upstream.setTitle(titleId, behaviour);
        calls.push(gateway.graphql(REQUEST, { titleId, sessionId: sessionPath(`storm-${round}-${i}`) }));
      });
    }
    // A few queued sessions with subscribers, so pollers are running when the gateway stops.
    upstream.setTitle('5999', 'queued');
    const queued = Array.from({ length: 5 }, (_, i) => sessionPath(`storm-queued-${i}`));
    for (const sessionId of queued) await gateway.graphql(REQUEST, { titleId: '5999', sessionId });
    const client = gateway.wsClient({ authorization: AUTH });
    const follows = queued.map((sessionId) => collectWs(client, FOLLOW, { sessionId }));
    const responses = await Promise.all(calls);
    for (const response of responses) expect(response.errors?.[0]?.extensions?.code).toEqual(expect.any(String));
    upstream.setTitle('5999', 'slow');
    await upstream.waitForRequest((r) => r.titleId === '5999' && r.behaviour === 'slow', { since: Date.now() });
    expect(gateway.app.services.poller.activeCount).toBe(5);

    await gateway.close();
    // Every subscriber's stream ends when the gateway stops.
    await Promise.all(follows);
    await eventually(async () => (await upstream.openConnections()) === 0, 'the upstream sees no open connection');
    await upstream.close();
    await waitForResourcesBackTo(baseline);
  });
});
