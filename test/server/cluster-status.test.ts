import { afterEach, describe, expect, it } from 'vitest';
import {
  AUTH,
  collectSse,
  collectWs,
  sessionPath,
  startTestGateway,
  TITLE,
  type GraphQLResponse,
  type TestGateway,
} from '../support/gateway.js';

const REQUEST = 'mutation ($sessionId: String!) { requestCluster(titleId: "1234567890", sessionId: $sessionId) }';
const FOLLOW = /* GraphQL */ `
  subscription Follow($sessionId: String!) {
    clusterStatus(sessionId: $sessionId) { state hostName region portMappings { name externalPort } pollCount }
  }
`;
type Follow = { clusterStatus: { state: string; hostName: string | null; portMappings: unknown[] } };

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

/** Starts a gateway whose title has one server, taken by a first session, and queues a second. */
async function queuedSession(name: string, env: Record<string, string> = {}): Promise<{ gw: TestGateway; sessionId: string }> {
  const gw = await startTestGateway({ emulator: { capacity: 1, pollIntervalMs: 100 }, env });
  gateway = gw;
  await gw.graphql(REQUEST, { sessionId: sessionPath(`${name}-holder`) });
  const sessionId = sessionPath(name);
  expect((await gw.graphql(REQUEST, { sessionId })).data).toEqual({ requestCluster: 'QUEUED' });
  return { gw, sessionId };
}

const states = (results: GraphQLResponse<Follow>[]) => results.map((r) => r.data?.clusterStatus.state);

describe('clusterStatus follows a queued session to FULFILLED', () => {
  it('over graphql-ws', async () => {
    const { gw, sessionId } = await queuedSession('ws-1');
    const { results, error } = await collectWs<Follow>(gw.wsClient(), FOLLOW, { sessionId }, (r) => {
      if (r.data?.clusterStatus.state === 'QUEUED') gw.emulator.releaseClusters(TITLE);
    });
    expect(error).toBeUndefined();
    expect(states(results)).toEqual(['QUEUED', 'FULFILLED']);
    const fulfilled = results[1]!.data!.clusterStatus;
    expect(fulfilled.hostName).toEqual(expect.any(String));
    expect(fulfilled.portMappings.length).toBeGreaterThan(0);
    expect(gw.app.services.poller.activeCount).toBe(0);
  });

  it('over SSE', async () => {
    const { gw, sessionId } = await queuedSession('sse-1');
    const results = await collectSse<Follow>(gw.url, FOLLOW, { sessionId }, AUTH, (r) => {
      if (r.data?.clusterStatus.state === 'QUEUED') gw.emulator.releaseClusters(TITLE);
    });
    expect(states(results)).toEqual(['QUEUED', 'FULFILLED']);
    expect(results[1]!.data!.clusterStatus.hostName).toEqual(expect.any(String));
    expect(gw.app.services.poller.activeCount).toBe(0);
  });

  it('over graphql-ws with the credential in the subscribe message extensions (GraphiQL over WS)', async () => {
    const { gw, sessionId } = await queuedSession('ws-ext-1');
    const client = gw.wsClient({});
    const result = await new Promise<GraphQLResponse<Follow>>((resolve, reject) => {
      const stop = client.subscribe<Follow>(
        { query: FOLLOW, variables: { sessionId }, extensions: { headers: { Authorization: AUTH } } },
        { next: (r) => { resolve(r as GraphQLResponse<Follow>); stop(); }, error: reject, complete: () => {} },
      );
    });
    expect(result.data?.clusterStatus.state).toBe('QUEUED');
  });

  it('an already fulfilled session yields FULFILLED and completes', async () => {
    const gw = await startTestGateway();
    gateway = gw;
    const sessionId = sessionPath('done-1');
    await gw.graphql(REQUEST, { sessionId });
    const { results } = await collectWs<Follow>(gw.wsClient(), FOLLOW, { sessionId });
    expect(states(results)).toEqual(['FULFILLED']);
  });
});

describe('one upstream poll per interval, however many subscribers', () => {
  it('ten WebSocket and two SSE subscribers share one poller', async () => {
    const { gw, sessionId } = await queuedSession('fan-1');
    const subscribers = [
      ...Array.from({ length: 10 }, () => collectWs<Follow>(gw.wsClient(), FOLLOW, { sessionId }).then((r) => r.results)),
      collectSse<Follow>(gw.url, FOLLOW, { sessionId }),
      collectSse<Follow>(gw.url, FOLLOW, { sessionId }),
    ];
    // Let the poller ask five times while everyone listens, then free a server.
    const polls = () => gw.emulator.requests.filter((r) => r.sessionKey === sessionId);
    await gw.emulator.waitForRequest(() => polls().length >= 6, 10_000);
    expect(gw.app.services.poller.activeCount).toBe(1);
    gw.emulator.releaseClusters(TITLE);
    const all = await Promise.all(subscribers);
    for (const results of all) expect(states(results).at(-1)).toBe('FULFILLED');

    // Never two posts inside one advised interval (100 ms): extra subscribers add no polls.
    const times = polls().map((r) => r.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(95);
    expect(gw.app.services.poller.activeCount).toBe(0);
  });
});

describe('ends and errors', () => {
  it('a session never requested is NOT_FOUND, over graphql-ws and SSE', async () => {
    const gw = await startTestGateway();
    gateway = gw;
    const { results } = await collectWs(gw.wsClient(), FOLLOW, { sessionId: sessionPath('nobody') });
    expect(results).toHaveLength(1);
    expect(results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const sse = await collectSse(gw.url, FOLLOW, { sessionId: sessionPath('nobody') });
    expect(sse[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a subscription with no credential is UNAUTHENTICATED', async () => {
    const gw = await startTestGateway();
    gateway = gw;
    const { results } = await collectWs(gw.wsClient({}), FOLLOW, { sessionId: sessionPath('x') });
    expect(results[0]?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a session still queued after the watch time ends with WATCH_TIMEOUT and stays QUEUED', async () => {
    const { gw, sessionId } = await queuedSession('timeout-1', { GSMS_WATCH_TIMEOUT_MS: '400' });
    const { results } = await collectWs<Follow>(gw.wsClient(), FOLLOW, { sessionId });
    expect(states(results)[0]).toBe('QUEUED');
    expect(results.at(-1)?.errors?.[0]?.extensions?.code).toBe('WATCH_TIMEOUT');
    expect(gw.app.services.poller.activeCount).toBe(0);
    const query = await gw.graphql<{ cluster: { state: string } }>('query ($s: String!) { cluster(sessionId: $s) { state } }', { s: sessionId });
    expect(query.data?.cluster.state).toBe('QUEUED');
  });

  it('stopping the gateway stops every poller and ends subscriptions', async () => {
    const { gw, sessionId } = await queuedSession('shutdown-1');
    const followed = collectWs<Follow>(gw.wsClient(), FOLLOW, { sessionId });
    await gw.emulator.waitForRequest((r) => r.sessionKey === sessionId && r.status === 200);
    expect(gw.app.services.poller.activeCount).toBe(1);
    await gw.app.stop();
    expect(gw.app.services.poller.activeCount).toBe(0);
    const { results } = await followed;
    expect(states(results)).toEqual(['QUEUED']);
    await gw.emulator.close();
    gateway = undefined;
  });
});
