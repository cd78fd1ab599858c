/**
 * Fuzzing the gateway over real HTTP: thousands of random ids, credentials, variables, documents, query
 * strings, headers and bodies. Every answer must be a clear error (with `extensions.code`, never a masked
 * internal one, never a 5xx) or a correct result, no answer may echo the token, and the process must still
 * answer afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { parseSessionPath } from '../../src/gsms/session-id.js';
import { parseTitleId } from '../../src/gsms/title-id.js';
import { parseXblAuthorization } from '../../src/gsms/xbl-authorization.js';
import { authorizationArb, httpRequestArb, SECRET_TOKEN, sessionIdArb, titleIdArb } from './arbitraries.js';
import { problemsWith, send } from './fuzz-http.js';
import { errorCodes, startProofGateway, type ProofGateway } from './proof-gateway.js';

let emulator: RunningEmulator;
let gateway: ProofGateway;
beforeAll(async () => {
  // Room for every fuzzed session, so a valid request is always FULFILLED and no poller piles up.
  emulator = await startEmulator({ capacity: 1_000_000, pollIntervalMs: 1000 });
  // The per-identity rate limit has its own tests; here it would answer RATE_LIMITED instead of the code under test.
  gateway = await startProofGateway(emulator.url, { env: { RATE_LIMIT_REQUEST_CLUSTER: 'off' } });
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

async function stillAnswers(): Promise<void> {
  const response = await gateway.graphql('{ __typename }', undefined, null);
  expect(response).toMatchObject({ status: 200, data: { __typename: 'Query' } });
}

const REQUEST = 'mutation ($t: ID!, $s: String!, $a: Boolean) { requestCluster(titleId: $t, sessionId: $s, abortIfQueued: $a) }';

describe('requestCluster with random titleIds, sessionIds and credentials', () => {
  it('answers exactly the code the input deserves, or FULFILLED', async () => {
    await fc.assert(
      fc.asyncProperty(titleIdArb, sessionIdArb, authorizationArb, fc.option(fc.boolean()), async (titleId, sessionId, authorization, abortIfQueued) => {
        const response = await gateway.graphql(REQUEST, { t: titleId, s: sessionId, a: abortIfQueued }, authorization);
        const expected = !parseXblAuthorization(authorization)
          ? 'UNAUTHENTICATED'
          : parseTitleId(titleId) === null || parseSessionPath(sessionId) === null
            ? 'BAD_USER_INPUT'
            : null;
        if (expected) {
          // A malformed credential may be refused before execution (no `data` at all) or by the field (`data: null`).
          expect(response.data ?? null).toBeNull();
          expect(response.status).toBeLessThan(500);
          expect(errorCodes(response)).toEqual([expected]);
        } else {
          expect(response.errors).toBeUndefined();
          expect(response.data).toEqual({ requestCluster: 'FULFILLED' });
        }
        expect(JSON.stringify(response)).not.toContain(SECRET_TOKEN);
      }),
      { numRuns: 600 },
    );
    await stillAnswers();
  });

  it('cluster and clusterStatus (over SSE) with random sessionIds answer BAD_USER_INPUT, NOT_FOUND or the session', async () => {
    const authorization = `XBL3.0 x=fuzzer;${SECRET_TOKEN}`;
    await fc.assert(
      fc.asyncProperty(sessionIdArb, fc.boolean(), fc.boolean(), async (sessionId, requestFirst, overSse) => {
        const session = parseSessionPath(sessionId);
        if (requestFirst) await gateway.graphql(REQUEST, { t: '777', s: sessionId }, authorization);
        const existing = session && (await gateway.app.services.registry.get(session.canonical));
        const query = overSse
          ? 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }'
          : 'query ($s: String!) { cluster(sessionId: $s) { state } }';
        const answer = await send(gateway.url, {
          method: 'POST',
          path: '/graphql',
          headers: { 'content-type': 'application/json', accept: overSse ? 'text/event-stream' : 'application/json', authorization },
          body: JSON.stringify({ query, variables: { s: sessionId } }),
        });
        expect(problemsWith(answer, SECRET_TOKEN)).toEqual([]);
        const codes = answer.results.flatMap((r) => (r.errors ?? []).map((e) => e.extensions?.code));
        if (!session) expect(codes).toEqual(['BAD_USER_INPUT']);
        else if (!existing) expect(codes).toEqual(['NOT_FOUND']);
        else if (existing.requesters.includes('fuzzer')) expect(codes).toEqual([]);
        // Someone else's session (an earlier run drew the same id): the access rules' own tests say which.
        else expect([[], ['NOT_FOUND']]).toContainEqual(codes);
      }),
      { numRuns: 300 },
    );
    await stillAnswers();
  });
});

describe('random HTTP requests at /graphql and beyond', () => {
  it('every answer is a clear error or a result: no 5xx, no error without a code, no masked error, no token', async () => {
    await fc.assert(
      fc.asyncProperty(httpRequestArb, async (fuzz) => {
        const answer = await send(gateway.url, fuzz);
        expect(problemsWith(answer, SECRET_TOKEN), `${fuzz.method} ${fuzz.path}`).toEqual([]);
      }),
      { numRuns: 1500 },
    );
    await stillAnswers();
  });
});
