/**
 * Who sees what: a session's status is visible to the Xbox Live identities that requested it and to
 * operators; everyone else gets NOT_FOUND, as for a session never requested. Operators read everything
 * but never call GSMS without their own credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AUTH, OTHER_AUTH, TITLE, collectSse, collectWs, sessionPath, startTestGateway, type TestGateway } from '../support/gateway.js';
import { OPERATOR_KEY, post, sha256Hex } from './http.js';

const REQUEST = 'mutation($titleId: ID!, $sessionId: String!) { requestCluster(titleId: $titleId, sessionId: $sessionId) }';
const CLUSTER = 'query($sessionId: String!) { cluster(sessionId: $sessionId) { sessionId state } }';
const CLUSTERS = '{ clusters { sessionId } }';
const FOLLOW = 'subscription($sessionId: String!) { clusterStatus(sessionId: $sessionId) { sessionId state } }';

const onlyA = sessionPath('access-only-a');
const shared = sessionPath('access-shared');
const ANOTHER_KEY_HASH = sha256Hex('a-second-operator-key');

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    emulator: { capacity: 20 },
    env: { GATEWAY_OPERATOR_KEY_HASHES: `${ANOTHER_KEY_HASH},${sha256Hex(OPERATOR_KEY)}` },
  });
  for (const [sessionId, authorization] of [[onlyA, AUTH], [shared, AUTH], [shared, OTHER_AUTH]] as const) {
    const result = await gw.graphql(REQUEST, { titleId: TITLE, sessionId }, authorization);
    expect(result.data).toEqual({ requestCluster: 'FULFILLED' });
  }
});
afterAll(() => gw?.close());

const sessionIds = (data: unknown) => ((data as { clusters: { sessionId: string }[] }).clusters ?? []).map((c) => c.sessionId);

describe('a player sees only the sessions their identity requested', () => {
  it('another player gets NOT_FOUND from cluster, exactly as for a session never requested', async () => {
    const other = await gw.graphql(CLUSTER, { sessionId: onlyA }, OTHER_AUTH);
    const never = await gw.graphql(CLUSTER, { sessionId: sessionPath('access-never') }, OTHER_AUTH);
    expect(other.data).toEqual({ cluster: null });
    expect(other.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(other.errors?.[0]?.message).toBe(never.errors?.[0]?.message);
    expect(JSON.stringify(other)).not.toContain('FULFILLED');
  });

  it('another player does not find it in clusters', async () => {
    const other = await gw.graphql(CLUSTERS, {}, OTHER_AUTH);
    expect(sessionIds(other.data)).toEqual([shared]);
    const owner = await gw.graphql(CLUSTERS, {}, AUTH);
    expect(sessionIds(owner.data).sort()).toEqual([onlyA, shared].sort());
  });

  it('another player gets NOT_FOUND from clusterStatus, over SSE and graphql-ws', async () => {
    const sse = await collectSse(gw.url, FOLLOW, { sessionId: onlyA }, OTHER_AUTH);
    expect(sse).toHaveLength(1);
    expect(sse[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(sse[0]?.data ?? null).toBeNull();
    const { results } = await collectWs(gw.wsClient({ authorization: OTHER_AUTH }), FOLLOW, { sessionId: onlyA });
    expect(results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('every identity that requested a session sees it', async () => {
    for (const authorization of [AUTH, OTHER_AUTH]) {
      expect((await gw.graphql(CLUSTER, { sessionId: shared }, authorization)).data).toEqual({ cluster: { sessionId: shared, state: 'FULFILLED' } });
      const sse = await collectSse(gw.url, FOLLOW, { sessionId: shared }, authorization);
      expect(sse.map((r) => r.data)).toEqual([{ clusterStatus: { sessionId: shared, state: 'FULFILLED' } }]);
    }
  });
});

describe('an operator key reads every session and never calls GSMS without its own credential', () => {
  it('sees every session through cluster and clusters', async () => {
    const one = await post(gw.url, CLUSTER, { sessionId: onlyA }, { 'x-api-key': OPERATOR_KEY });
    expect(one.json()).toEqual({ data: { cluster: { sessionId: onlyA, state: 'FULFILLED' } } });
    const all = await post(gw.url, CLUSTERS, {}, { 'x-api-key': OPERATOR_KEY });
    expect(sessionIds(all.json().data).sort()).toEqual([onlyA, shared].sort());
  });

  it('follows any session over graphql-ws (key in connectionParams) and SSE (key as a header)', async () => {
    const { results } = await collectWs(gw.wsClient({ 'x-api-key': OPERATOR_KEY }), FOLLOW, { sessionId: onlyA });
    expect(results.map((r) => r.data)).toEqual([{ clusterStatus: { sessionId: onlyA, state: 'FULFILLED' } }]);
    const sse = await post(gw.url, FOLLOW, { sessionId: onlyA }, { 'x-api-key': OPERATOR_KEY, accept: 'text/event-stream' });
    expect(sse.text).toContain('"state":"FULFILLED"');
  });

  it('cannot requestCluster with the key alone: FORBIDDEN, and nothing reaches GSMS', async () => {
    const before = gw.emulator.requestCount();
    const answer = await post(gw.url, REQUEST, { titleId: TITLE, sessionId: sessionPath('access-op-1') }, { 'x-api-key': OPERATOR_KEY });
    expect(answer.json().errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(gw.emulator.requestCount()).toBe(before);
  });

  it('requests a cluster with its own Xbox Live credential, as that identity', async () => {
    const sessionId = sessionPath('access-op-2');
    const answer = await post(gw.url, REQUEST, { titleId: TITLE, sessionId }, { 'x-api-key': OPERATOR_KEY, authorization: 'XBL3.0 x=operator-person;op-token' });
    expect(answer.json()).toEqual({ data: { requestCluster: 'FULFILLED' } });
    // Recorded as requested by that identity: it sees the session as a player, without the key.
    const asPlayer = await gw.graphql(CLUSTER, { sessionId }, 'XBL3.0 x=operator-person;another-token');
    expect(asPlayer.data).toEqual({ cluster: { sessionId, state: 'FULFILLED' } });
    // The players who did not request it still cannot see it.
    expect((await gw.graphql(CLUSTER, { sessionId }, AUTH)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('a wrong operator key is UNAUTHENTICATED', () => {
  it('over HTTP, whatever the operation and even with a valid player credential', async () => {
    for (const [query, headers] of [
      [CLUSTERS, { 'x-api-key': 'not-the-key' }],
      ['{ __typename }', { 'x-api-key': '' }],
      [CLUSTER, { 'x-api-key': 'not-the-key', authorization: AUTH }],
    ] as const) {
      const answer = await post(gw.url, query, { sessionId: onlyA }, headers);
      expect(answer.json().errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(answer.text).not.toContain('FULFILLED');
    }
  });

  it('over graphql-ws: in connectionParams the connection is closed with 4401; in a subscribe message it is an error', async () => {
    const closed = new Promise<number>((resolve) => {
      const client = gw.wsClient({ 'x-api-key': 'not-the-key' });
      client.on('closed', (event) => resolve((event as { code: number }).code));
      client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    expect(await closed).toBe(4401);

    const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: { type: string; payload?: unknown }[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.on('error', reject);
      socket.on('message', (raw) => {
        const message = JSON.parse(String(raw)) as { type: string; payload?: unknown };
        messages.push(message);
        if (message.type === 'connection_ack') {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: CLUSTERS, extensions: { headers: { 'x-api-key': 'wrong' } } } }));
        }
        if (message.type === 'error' || message.type === 'complete') resolve();
      });
    });
    socket.close();
    expect(messages.at(-1)).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('any key is wrong when no operator key is configured', async () => {
    const bare = await startTestGateway();
    try {
      const answer = await post(bare.url, CLUSTERS, {}, { 'x-api-key': OPERATOR_KEY });
      expect(answer.json().errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await bare.close();
    }
  });
});
