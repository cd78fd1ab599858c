/**
 * `clusterEvents`: the dashboard's feed. Every change to every session the caller may see, filtered by
 * title, over SSE; players see their own sessions, operators (x-api-key) see all of them.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, OTHER_AUTH, sessionPath, startTestGateway, TITLE, type TestGateway } from '../support/gateway.js';
import { openEventStream, type EventStream } from './event-stream.js';

const OTHER_TITLE = '42';
const REQUEST = 'mutation ($titleId: ID!, $sessionId: String!) { requestCluster(titleId: $titleId, sessionId: $sessionId) }';
const EVENTS = 'subscription ($titleId: ID) { clusterEvents(titleId: $titleId) { sessionId titleId state hostName } }';
const OPERATOR_KEY = 'operator-key-for-tests';
type Events = { clusterEvents: { sessionId: string; titleId: string; state: string; hostName: string | null } };

let gateway: TestGateway | undefined;
const streams: EventStream<Events>[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await gateway?.close();
  gateway = undefined;
});

async function start(): Promise<TestGateway> {
  gateway = await startTestGateway({
    emulator: { capacity: 1, pollIntervalMs: 100 },
    env: { GATEWAY_OPERATOR_KEY_HASHES: createHash('sha256').update(OPERATOR_KEY).digest('hex') },
  });
  return gateway;
}

async function follow(gw: TestGateway, headers: Record<string, string>, titleId?: string): Promise<EventStream<Events>> {
  const stream = await openEventStream<Events>(gw.url, EVENTS, { titleId }, headers);
  streams.push(stream);
  return stream;
}

const seen = (stream: EventStream<Events>) => stream.results.map((r) => `${r.data?.clusterEvents.sessionId.split('/').at(-1)} ${r.data?.clusterEvents.state}`);

describe('clusterEvents', () => {
  it('streams each change of the caller\'s sessions of one title, QUEUED then FULFILLED', async () => {
    const gw = await start();
    const events = await follow(gw, { authorization: AUTH }, TITLE);
    await gw.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath('first') });
    await gw.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath('second') });
    await gw.graphql(REQUEST, { titleId: OTHER_TITLE, sessionId: sessionPath('elsewhere') });
    await events.waitFor((r) => r.length >= 2);
    gw.emulator.releaseClusters(TITLE);
    await events.waitFor((r) => r.length >= 3);
    expect(seen(events)).toEqual(['first FULFILLED', 'second QUEUED', 'second FULFILLED']);
    expect(events.results[2]!.data!.clusterEvents).toMatchObject({ titleId: TITLE, hostName: expect.any(String) });
  });

  it('shows a player only their own sessions, and an operator everyone\'s', async () => {
    const gw = await start();
    const playerOne = await follow(gw, { authorization: AUTH });
    const playerTwo = await follow(gw, { authorization: OTHER_AUTH });
    const operator = await follow(gw, { 'x-api-key': OPERATOR_KEY });
    await gw.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath('one') }, AUTH);
    await gw.graphql(REQUEST, { titleId: OTHER_TITLE, sessionId: sessionPath('two') }, OTHER_AUTH);
    await operator.waitFor((r) => r.length >= 2);
    await playerOne.waitFor((r) => r.length >= 1);
    await playerTwo.waitFor((r) => r.length >= 1);
    expect(seen(operator)).toEqual(['one FULFILLED', 'two FULFILLED']);
    expect(seen(playerOne)).toEqual(['one FULFILLED']);
    expect(seen(playerTwo)).toEqual(['two FULFILLED']);
  });

  it('needs a credential, and a well-formed title id', async () => {
    const gw = await start();
    const anonymous = await follow(gw, {});
    await anonymous.waitFor((r) => r.length >= 1).catch(() => undefined);
    expect(anonymous.results[0]?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const badTitle = await follow(gw, { authorization: AUTH }, 'not-a-title');
    await badTitle.waitFor((r) => r.length >= 1).catch(() => undefined);
    expect(badTitle.results[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
