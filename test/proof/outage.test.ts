/**
 * An upstream outage: GSMS goes away for 10 s (a proxy in front of the emulator stops listening and cuts
 * its connections) while 50 queued sessions are followed over graphql-ws. Subscribers see no error during
 * the outage, and once GSMS is back every one of them gets its terminal state, within a bounded time.
 * Default timing throughout (retries, back-off), so the recovery time measured is what production gets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/gsms/emulator/server.js';
import { AUTH, collectWs, sessionPath, foldRepeats } from '../support/gateway.js';
import { startProofGateway } from './proof-gateway.js';
import { startTcpProxy } from './tcp-proxy.js';

const REQUEST = 'mutation ($s: String!) { requestCluster(titleId: "6006", sessionId: $s) }';
const FOLLOW = 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }';
type Follow = { clusterStatus: { state: string } };

const OUTAGE_MS = 10_000;
const SESSIONS = 50;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0).reverse()) await dispose();
});

describe('GSMS down for 10 s while 50 sessions are queued and subscribed', () => {
  it('every subscriber gets FULFILLED once GSMS is back, with no error in between', { timeout: 90_000 }, async () => {
    const emulator = await startEmulator({ capacity: 0, pollIntervalMs: 500 });
    cleanup.push(() => emulator.close());
    const proxy = await startTcpProxy(emulator.port);
    cleanup.push(() => proxy.close());
    const gateway = await startProofGateway(proxy.url);
    cleanup.push(() => gateway.close());

    const sessions = Array.from({ length: SESSIONS }, (_, i) => sessionPath(`outage-${i}`));
    for (const s of sessions) expect((await gateway.graphql(REQUEST, { s })).data).toEqual({ requestCluster: 'QUEUED' });

    // Five connections of ten subscriptions, each resolved once its first event (QUEUED) arrived.
    const clients = Array.from({ length: 5 }, () => gateway.wsClient({ authorization: AUTH }));
    let subscribed = 0;
    let allSubscribed!: () => void;
    const ready = new Promise<void>((resolve) => (allSubscribed = resolve));
    const fulfilledAt: number[] = [];
    const follows = sessions.map((s, i) =>
      collectWs<Follow>(clients[i % clients.length]!, FOLLOW, { s }, (r) => {
        const state = r.data?.clusterStatus.state;
        if (state === 'QUEUED' && ++subscribed === SESSIONS) allSubscribed();
        if (state === 'FULFILLED') fulfilledAt.push(performance.now());
      }),
    );
    await ready;

    await proxy.stop();
    // Capacity frees while GSMS is unreachable: the answers waiting behind the outage are all FULFILLED.
    emulator.setCapacity(SESSIONS);
    // A request already forwarded when the proxy stopped may still land; after a second, nothing gets through.
    await sleep(1_000);
    const requestsDuringOutage = emulator.requestCount();
    await sleep(OUTAGE_MS - 1_000);
    expect(emulator.requestCount()).toBe(requestsDuringOutage);
    expect(gateway.app.services.poller.activeCount).toBe(SESSIONS);
    const backAt = performance.now();
    await proxy.resume();

    const outcomes = await Promise.all(follows);
    const recoveryMs = Math.max(...fulfilledAt) - backAt;
    console.info(`outage ${OUTAGE_MS} ms: all ${SESSIONS} subscribers FULFILLED ${Math.round(recoveryMs)} ms after GSMS came back`);
    for (const { results, error } of outcomes) {
      expect(error).toBeUndefined();
      expect(results.every((r) => r.errors === undefined)).toBe(true);
      expect(foldRepeats(results.map((r) => r.data?.clusterStatus.state))).toEqual(['QUEUED', 'FULFILLED']);
    }
    expect(gateway.app.services.poller.activeCount).toBe(0);
    // Bounded by the retry client's longest wait (5 s) plus one poll back-off step; generous for a busy machine.
    expect(recoveryMs).toBeLessThan(30_000);
  });
});

describe('an outage longer than the retry budget', () => {
  it('pollers back off to GSMS_POLL_MAX_BACKOFF_MS at most, so recovery stays bounded however long GSMS was away', { timeout: 60_000 }, async () => {
    const emulator = await startEmulator({ capacity: 0, pollIntervalMs: 100 });
    cleanup.push(() => emulator.close());
    const proxy = await startTcpProxy(emulator.port);
    cleanup.push(() => proxy.close());
    // Each call gives up after 300 ms, so over 9 s a poller fails again and again and its back-off reaches the
    // cap. Uncapped (30 s), its calls would go out at about 0.5, 1.2, 2.3, 4.2 and 7.7 s, then not before 14 s:
    // 5 s after GSMS is back. Capped at 1 s, the next call is at most 1.1 s away.
    const gateway = await startProofGateway(proxy.url, { env: { GSMS_RETRY_MAX_TOTAL_MS: '300', GSMS_CONNECT_TIMEOUT_MS: '200', GSMS_POLL_MAX_BACKOFF_MS: '1000' } });
    cleanup.push(() => gateway.close());
    const s = sessionPath('long-outage');
    expect((await gateway.graphql(REQUEST, { s })).data).toEqual({ requestCluster: 'QUEUED' });
    let queued!: () => void;
    const subscribed = new Promise<void>((resolve) => (queued = resolve));
    let fulfilledAt = 0;
    const follow = collectWs<Follow>(gateway.wsClient({ authorization: AUTH }), FOLLOW, { s }, (r) => {
      if (r.data?.clusterStatus.state === 'QUEUED') queued();
      if (r.data?.clusterStatus.state === 'FULFILLED') fulfilledAt = performance.now();
    });
    await subscribed;

    await proxy.stop();
    emulator.setCapacity(1);
    await sleep(9_000);
    const backAt = performance.now();
    await proxy.resume();
    const { results, error } = await follow;
    expect(error).toBeUndefined();
    expect(foldRepeats(results.map((r) => r.data?.clusterStatus.state))).toEqual(['QUEUED', 'FULFILLED']);
    const recoveryMs = fulfilledAt - backAt;
    console.info(`long outage: FULFILLED ${Math.round(recoveryMs)} ms after GSMS came back (back-off cap 1000 ms)`);
    // At most the capped back-off plus 10% jitter and one call (about 1.4 s); the slack is for a busy machine.
    expect(recoveryMs).toBeLessThan(4_000);
  });
});

