/**
 * CSRF prevention: requests a browser can send cross-site without a preflight (form posts, text/plain,
 * plain GETs) are refused unless they carry the CSRF header; JSON POSTs, SSE included, pass as they are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, TITLE, collectSse, sessionPath, startTestGateway, type TestGateway } from '../support/gateway.js';
import { post, send } from './http.js';

const TYPENAME = encodeURIComponent('{ __typename }');

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw?.close());

describe('simple cross-site requests are refused without the CSRF header', () => {
  const simple: [string, Record<string, string>, string][] = [
    ['a form post', { 'content-type': 'application/x-www-form-urlencoded' }, `query=${TYPENAME}`],
    ['a text/plain post', { 'content-type': 'text/plain' }, JSON.stringify({ query: '{ __typename }' })],
    ['a multipart post', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--x--\r\n'],
  ];
  it.each(simple)('%s is 403 CSRF_HEADER_REQUIRED', async (_name, headers, body) => {
    const answer = await send(`${gw.url}/graphql`, { headers: { ...headers, authorization: AUTH }, body });
    expect(answer.status).toBe(403);
    expect(answer.json().errors?.[0]?.extensions?.code).toBe('CSRF_HEADER_REQUIRED');
    expect(answer.text).not.toContain('Query');
  });

  it('a mutation sent as a form never reaches GSMS', async () => {
    const before = gw.emulator.requestCount();
    const query = `mutation { requestCluster(titleId: "${TITLE}", sessionId: "${sessionPath('csrf-1')}") }`;
    const answer = await send(`${gw.url}/graphql`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: AUTH },
      body: `query=${encodeURIComponent(query)}`,
    });
    expect(answer.status).toBe(403);
    expect(gw.emulator.requestCount()).toBe(before);
  });

  it('a GET without the header is refused; with it, it is answered', async () => {
    const bare = await send(`${gw.url}/graphql?query=${TYPENAME}`, { method: 'GET' });
    expect(bare.status).toBe(403);
    expect(bare.json().errors?.[0]?.extensions?.code).toBe('CSRF_HEADER_REQUIRED');
    const withHeader = await send(`${gw.url}/graphql?query=${TYPENAME}`, { method: 'GET', headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(withHeader.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('what real clients send passes untouched', () => {
  it('a JSON POST', async () => {
    const answer = await post(gw.url, '{ __typename }');
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('an SSE subscription POSTed as JSON (accept: text/event-stream)', async () => {
    const sessionId = sessionPath('csrf-sse');
    await gw.graphql('mutation($t: ID!, $s: String!) { requestCluster(titleId: $t, sessionId: $s) }', { t: TITLE, s: sessionId });
    const events = await collectSse(gw.url, 'subscription($s: String!) { clusterStatus(sessionId: $s) { state } }', { s: sessionId });
    expect(events.map((e) => e.data)).toEqual([{ clusterStatus: { state: 'FULFILLED' } }]);
  });

  it("GraphiQL's SSE subscription: a GET with accept: text/event-stream and the CSRF header", async () => {
    const sessionId = sessionPath('csrf-graphiql');
    await gw.graphql('mutation($t: ID!, $s: String!) { requestCluster(titleId: $t, sessionId: $s) }', { t: TITLE, s: sessionId });
    const query = encodeURIComponent(`subscription { clusterStatus(sessionId: "${sessionId}") { state } }`);
    const answer = await send(`${gw.url}/graphql?query=${query}`, {
      method: 'GET',
      headers: { accept: 'text/event-stream', authorization: AUTH, 'x-graphql-yoga-csrf': 'graphiql' },
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('"state":"FULFILLED"');
  });
});

describe('CSRF_PREVENTION=false', () => {
  it('lets a form post through (for deployments behind their own CSRF protection)', async () => {
    const loose = await startTestGateway({ env: { CSRF_PREVENTION: 'false' } });
    try {
      const answer = await send(`${loose.url}/graphql`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `query=${TYPENAME}` });
      expect(answer.json()).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await loose.close();
    }
  });
});
