/**
 * Callers that go away, and a gateway that does: a subscriber whose socket dies, a mutation whose client
 * hangs up mid-flight, and a gateway restart in memory mode. What the README's Reliability table promises.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator } from '../../src/gsms/emulator/server.js';
import { startBrokenUpstream } from '../support/broken-upstream.js';
import { AUTH, collectWs, sessionPath, foldRepeats } from '../support/gateway.js';
import { errorCodes, startProofGateway } from './proof-gateway.js';
import { eventually } from './resources.js';

const REQUEST = 'mutation ($s: String!) { requestCluster(titleId: "8008", sessionId: $s) }';
const FOLLOW = 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }';
const LOOKUP = 'query ($s: String!) { cluster(sessionId: $s) { state } }';
type Follow = { clusterStatus: { state: string } };

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0).reverse()) await dispose();
});

describe('a client disconnecting', () => {
  it('a subscriber whose socket dies ends only its own subscription; the poller and other subscribers go on', async () => {
    const emulator = await startEmulator({ capacity: 0, pollIntervalMs: 100 });
    cleanup.push(() => emulator.close());
    const gateway = await startProofGateway(emulator.url);
    cleanup.push(() => gateway.close());
    const s = sessionPath('dropped-subscriber');
    expect((await gateway.graphql(REQUEST, { s })).data).toEqual({ requestCluster: 'QUEUED' });

    // A raw graphql-ws client whose TCP connection is destroyed without a close frame.
    const raw = new WebSocket(gateway.wsUrl, ['graphql-transport-ws']);
    raw.on('error', () => {});
    await new Promise<void>((resolve) => raw.once('open', () => resolve()));
    raw.send(JSON.stringify({ type: 'connection_init', payload: { authorization: AUTH } }));
    const firstEvent = new Promise<void>((resolve) => raw.on('message', (data) => String(data).includes('QUEUED') && resolve()));
    raw.once('message', () => raw.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: FOLLOW, variables: { s } } })));
    await firstEvent;
    raw.terminate();

    const other = collectWs<Follow>(gateway.wsClient(), FOLLOW, { s });
    const before = emulator.requestCount(s);
    await emulator.waitForRequest((r) => r.sessionKey === s && emulator.requestCount(s) > before + 2);
    expect(gateway.app.services.poller.isWatching(s)).toBe(true);
    emulator.setCapacity(1);
    const { results, error } = await other;
    expect(error).toBeUndefined();
    expect(foldRepeats(results.map((r) => r.data?.clusterStatus.state))).toEqual(['QUEUED', 'FULFILLED']);
  });

  it('a mutation whose client hangs up mid-flight still requests and records the session', async () => {
    const upstream = await startBrokenUpstream();
    cleanup.push(() => upstream.close());
    const gateway = await startProofGateway(upstream.url, { env: { GSMS_REQUEST_TIMEOUT_MS: '500', GSMS_RETRY_MAX_TOTAL_MS: '5000' } });
    cleanup.push(() => gateway.close());
    const s = sessionPath('hung-up');
    // The first try hangs until its timeout; the retry is answered.
    upstream.queue('slow');
    upstream.setDefault('fulfilled');

    const controller = new AbortController();
    const call = request(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: AUTH },
      body: JSON.stringify({ query: REQUEST, variables: { s } }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await upstream.waitForRequest((r) => r.sessionId === s && r.behaviour === 'slow');
    controller.abort();
    expect(await call).toBeInstanceOf(Error);

    await upstream.waitForRequest((r) => r.sessionId === s && r.behaviour === 'fulfilled');
    await eventually(async () => (await gateway.app.services.registry.get(s))?.state === 'FULFILLED', 'the session is recorded');
    expect((await gateway.graphql(LOOKUP, { s })).data).toEqual({ cluster: { state: 'FULFILLED' } });
    // Requesting it again answers its state from GSMS, which is idempotent per session.
    expect((await gateway.graphql(REQUEST, { s })).data).toEqual({ requestCluster: 'FULFILLED' });
  });
});

describe('a gateway restart (in memory)', () => {
  it('closes subscriber sockets with 1001; the new gateway has forgotten the session until it is requested again, with no second server', async () => {
    const emulator = await startEmulator({ capacity: 1, pollIntervalMs: 100 });
    cleanup.push(() => emulator.close());
    const first = await startProofGateway(emulator.url);
    cleanup.push(() => first.close());
    const held = sessionPath('restart-held');
    const queued = sessionPath('restart-queued');
    expect((await first.graphql(REQUEST, { s: held })).data).toEqual({ requestCluster: 'FULFILLED' });
    expect((await first.graphql(REQUEST, { s: queued })).data).toEqual({ requestCluster: 'QUEUED' });

    let firstEvent!: () => void;
    const subscribed = new Promise<void>((resolve) => (firstEvent = resolve));
    const client = first.wsClient();
    let closeCode: number | undefined;
    client.on('closed', (event) => (closeCode = (event as { code?: number }).code));
    const follow = collectWs<Follow>(client, FOLLOW, { s: queued }, () => firstEvent());
    await subscribed;
    await first.close();
    // The stream ends (graphql-ws completes it, or errors it, depending on the client) and the socket is closed with 1001.
    const { results } = await follow;
    expect(results.map((r) => r.data?.clusterStatus.state)).toEqual(['QUEUED']);
    expect(closeCode).toBe(1001);

    const second = await startProofGateway(emulator.url);
    cleanup.push(() => second.close());
    expect(errorCodes(await second.graphql(LOOKUP, { s: queued }))).toEqual(['NOT_FOUND']);
    // Requested again: GSMS answers the same request's state, and still runs one cluster for the title.
    expect((await second.graphql(REQUEST, { s: held })).data).toEqual({ requestCluster: 'FULFILLED' });
    expect((await second.graphql(REQUEST, { s: queued })).data).toEqual({ requestCluster: 'QUEUED' });
    expect(emulator.snapshot()).toEqual([{ titleId: '8008', running: 1, queued: 1 }]);
  });
});
