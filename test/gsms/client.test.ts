/**
 * The GSMS client's request and answer handling, against undici's MockAgent (no network): what it sends,
 * how it reads GSMS's answers, and how final statuses map to GsmsError codes. Retries on a live socket are
 * in client-faults.test.ts.
 */
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGsmsClient, type ClusterRequest, type GsmsClient } from '../../src/gsms/client.js';
import { GsmsError } from '../../src/gsms/errors.js';
import packageJson from '../../package.json' with { type: 'json' };

const ORIGIN = 'https://gameserverms.xboxlive.com';
const PATH = '/titles/1234/clusters';
const AUTHORIZATION = 'XBL3.0 x=2535405290;eyJ-unit-secret-token';
const SESSION = '/serviceconfigs/00000000-0000-0000-0000-0000000000bb/sessiontemplates/quick/sessions/u1';
const FULFILLED = {
  pollIntervalMilliseconds: '1000',
  fulfillmentState: 'Fulfilled',
  hostName: 'gs-17.westus.cloudapp.net',
  region: 'WestUS',
  portMappings: [{ Key: 'game', Value: { internal: 3074, external: 30174 } }],
  secureContext: 'c2VjdXJl',
};

let agent: MockAgent;
let gsms: GsmsClient;
let attempts: { status: number | null; attempt: number; correlationId: string | null; errorCode?: string }[];
let logged: { level: string; obj: object; msg: string }[];

beforeEach(() => {
  agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  attempts = [];
  logged = [];
  gsms = createGsmsClient({
    baseUrl: ORIGIN,
    dispatcher: agent,
    retry: { maxAttempts: 3, maxTotalMs: 2_000, minDelayMs: 1, maxDelayMs: 5 },
    observer: { onAttempt: (info) => attempts.push(info) },
    logger: {
      debug: (obj, msg) => logged.push({ level: 'debug', obj, msg }),
      warn: (obj, msg) => logged.push({ level: 'warn', obj, msg }),
    },
  });
});

afterEach(async () => {
  await gsms.close();
  agent.assertNoPendingInterceptors();
  await agent.close();
});

const upstream = () => agent.get(ORIGIN);
const call = (extra: Partial<ClusterRequest> = {}) =>
  gsms.requestCluster({ titleId: '1234', sessionId: SESSION, abortIfQueued: false, authorization: AUTHORIZATION, ...extra });
const calls = () => agent.getCallHistory()?.calls() ?? [];

async function rejection(promise: Promise<unknown>): Promise<GsmsError> {
  const error = await promise.then(
    () => expect.unreachable('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GsmsError);
  return error as GsmsError;
}

describe('the request', () => {
  it('sends exactly the spec headers, the caller credential as is', async () => {
    upstream()
      .intercept({
        path: PATH,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-xbl-contract-version': '1', authorization: AUTHORIZATION },
      })
      .reply(200, FULFILLED);
    await call();
    // Host and Content-Length are added below the dispatch options, by undici (see client-faults.test.ts).
    expect(calls()[0]!.headers).toEqual({
      'User-Agent': `gsms-graphql/${packageJson.version}`,
      'Content-Type': 'application/json',
      'x-xbl-contract-version': '1',
      Authorization: AUTHORIZATION,
    });
  });

  it('sends the session and no abortIfQueued member when it is false', async () => {
    upstream().intercept({ path: PATH, method: 'POST', body: JSON.stringify({ sessionId: SESSION }) }).reply(200, FULFILLED);
    await call({ abortIfQueued: false });
    expect(JSON.parse(calls()[0]!.body!)).toStrictEqual({ sessionId: SESSION });
  });

  it('sends abortIfQueued as the JSON boolean true when set', async () => {
    upstream().intercept({ path: PATH, method: 'POST' }).reply(200, { pollIntervalMilliseconds: '1000', fulfillmentState: 'Aborted' });
    await expect(call({ abortIfQueued: true })).resolves.toMatchObject({ state: 'ABORTED' });
    expect(JSON.parse(calls()[0]!.body!)).toStrictEqual({ sessionId: SESSION, abortIfQueued: true });
  });

  it('keeps the base URL path prefix', async () => {
    const prefixed = createGsmsClient({ baseUrl: `${ORIGIN}/v1/gsms/`, dispatcher: agent });
    upstream().intercept({ path: `/v1/gsms${PATH}`, method: 'POST' }).reply(200, FULFILLED);
    await expect(prefixed.requestCluster({ titleId: '1234', sessionId: SESSION, abortIfQueued: false, authorization: AUTHORIZATION })).resolves.toBeTruthy();
    await prefixed.close();
  });
});

describe('reading answers', () => {
  it('reads a fulfilled answer and keeps its correlation id', async () => {
    upstream().intercept({ path: PATH, method: 'POST' }).reply(200, FULFILLED, { headers: { 'X-XblCorrelationId': 'corr-ok' } });
    await expect(call()).resolves.toEqual({
      state: 'FULFILLED',
      pollIntervalMs: 1000,
      hostName: 'gs-17.westus.cloudapp.net',
      region: 'WestUS',
      portMappings: [{ name: 'game', internalPort: 3074, externalPort: 30174 }],
      secureContext: 'c2VjdXJl',
      correlationId: 'corr-ok',
    });
    expect(attempts).toEqual([{ status: 200, attempt: 1, durationMs: expect.any(Number), correlationId: 'corr-ok' }]);
  });

  it.each([
    ['a string', '1500'],
    ['a number', 1500],
  ])('reads pollIntervalMilliseconds as %s', async (_, interval) => {
    upstream().intercept({ path: PATH, method: 'POST' }).reply(200, { pollIntervalMilliseconds: interval, fulfillmentState: 'Queued' });
    await expect(call()).resolves.toMatchObject({ state: 'QUEUED', pollIntervalMs: 1500, hostName: null });
  });

  it('reads the state in any case', async () => {
    upstream().intercept({ path: PATH, method: 'POST' }).reply(200, { ...FULFILLED, fulfillmentState: 'fulfilled' });
    await expect(call()).resolves.toMatchObject({ state: 'FULFILLED' });
  });

  it.each([
    ['an unknown state', JSON.stringify({ pollIntervalMilliseconds: '1000', fulfillmentState: 'Pending' })],
    ['a body that is not JSON', '<html>gateway</html>'],
    ['a JSON array', '[]'],
    ['an empty body', ''],
  ])('fails UPSTREAM_ERROR on a 200 with %s, with status and correlation id', async (_, body) => {
    upstream().intercept({ path: PATH, method: 'POST' }).reply(200, body, { headers: { 'x-xblcorrelationid': 'corr-bad' } });
    const error = await rejection(call());
    expect(error).toMatchObject({ code: 'UPSTREAM_ERROR', status: 200, correlationId: 'corr-bad' });
    expect(calls()).toHaveLength(1);
  });
});

describe('final statuses', () => {
  it.each([
    [400, 'BAD_USER_INPUT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN'],
    [404, 'UPSTREAM_ERROR'],
  ])('maps %i to %s after exactly one attempt', async (status, code) => {
    upstream().intercept({ path: PATH, method: 'POST' }).reply(status, { message: `denied ${AUTHORIZATION}` }, { headers: { 'x-xblcorrelationid': `corr-${status}` } });
    const error = await rejection(call());
    expect(error).toMatchObject({ code, status, correlationId: `corr-${status}` });
    expect(calls()).toHaveLength(1);
    expect(attempts).toHaveLength(1);
  });

  it('never puts the credential in an error message or a log line', async () => {
    upstream().intercept({ path: PATH, method: 'POST' }).reply(401, '');
    upstream().intercept({ path: PATH, method: 'POST' }).replyWithError(Object.assign(new Error(`boom ${AUTHORIZATION}`), { code: 'EWHATEVER' }));
    const errors = [await rejection(call()), await rejection(call())];
    for (const error of errors) {
      expect(`${error.message} ${error.stack}`).not.toContain('secret-token');
    }
    expect(logged.length).toBeGreaterThan(0);
    expect(JSON.stringify(logged)).not.toContain('secret-token');
  });
});

describe('retryable statuses', () => {
  it('retries a 503 and returns the answer that follows', async () => {
    upstream().intercept({ path: PATH, method: 'POST' }).reply(503, 'busy', { headers: { 'x-xblcorrelationid': 'busy-1' } });
    upstream().intercept({ path: PATH, method: 'POST' }).reply(200, FULFILLED, { headers: { 'x-xblcorrelationid': 'ok-2' } });
    await expect(call()).resolves.toMatchObject({ state: 'FULFILLED', correlationId: 'ok-2' });
    expect(attempts.map((a) => [a.status, a.correlationId])).toEqual([
      [503, 'busy-1'],
      [200, 'ok-2'],
    ]);
  });

  it('fails UPSTREAM_UNAVAILABLE with the last status and correlation id once the attempts are used up', async () => {
    for (const n of [1, 2, 3]) upstream().intercept({ path: PATH, method: 'POST' }).reply(504, '', { headers: { 'x-xblcorrelationid': `try-${n}` } });
    const error = await rejection(call());
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 504, correlationId: 'try-3' });
    expect(calls()).toHaveLength(3);
  });
});

describe('failures without an answer', () => {
  it('retries a reset connection and returns the next answer', async () => {
    upstream().intercept({ path: PATH, method: 'POST' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    upstream().intercept({ path: PATH, method: 'POST' }).reply(200, FULFILLED, { headers: { 'x-xblcorrelationid': 'after-reset' } });
    await expect(call()).resolves.toMatchObject({ state: 'FULFILLED', correlationId: 'after-reset' });
    expect(attempts.map((a) => a.errorCode ?? a.status)).toEqual(['ECONNRESET', 200]);
  });

  it('fails UPSTREAM_UNAVAILABLE once the attempts are used up', async () => {
    upstream().intercept({ path: PATH, method: 'POST' }).replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).times(3);
    const error = await rejection(call());
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(calls()).toHaveLength(3);
  });

  it('fails UPSTREAM_ERROR, without retrying, on an error that is not a network failure', async () => {
    upstream().intercept({ path: PATH, method: 'POST' }).replyWithError(new Error('something odd'));
    const error = await rejection(call());
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(calls()).toHaveLength(1);
  });

  it('fails at once when the caller has already aborted', async () => {
    const error = await rejection(call({ signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(calls()).toHaveLength(0);
  });
});

describe('options', () => {
  it('rejects a base URL that is not http(s) and retry settings that make no sense', () => {
    expect(() => createGsmsClient({ baseUrl: 'ftp://example.com' })).toThrow(TypeError);
    expect(() => createGsmsClient({ baseUrl: ORIGIN, retry: { maxAttempts: 0 } })).toThrow(RangeError);
    expect(() => createGsmsClient({ baseUrl: ORIGIN, retry: { minDelayMs: 10, maxDelayMs: 5 } })).toThrow(RangeError);
  });

  it('answers even when a metrics hook throws', async () => {
    const throwing = createGsmsClient({
      baseUrl: ORIGIN,
      dispatcher: agent,
      observer: {
        onAttempt: () => {
          throw new Error('metrics down');
        },
      },
    });
    upstream().intercept({ path: PATH, method: 'POST' }).reply(200, FULFILLED);
    await expect(throwing.requestCluster({ titleId: '1234', sessionId: SESSION, abortIfQueued: false, authorization: AUTHORIZATION })).resolves.toMatchObject({
      state: 'FULFILLED',
    });
  });

  it('leaves an injected dispatcher open on close', async () => {
    await gsms.close();
    upstream().intercept({ path: '/still-open', method: 'GET' }).reply(204, '');
    await expect(agent.request({ origin: ORIGIN, path: '/still-open', method: 'GET' })).resolves.toMatchObject({ statusCode: 204 });
  });
});
