/**
 * The GSMS client against a real node:http server whose handler switches on a request counter (the model of
 * undici's own retry tests): retryable statuses, Retry-After, resets, timeouts, and the bounds on retrying.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createGsmsClient, type GsmsClient, type GsmsClientOptions } from '../../src/gsms/client.js';
import { GsmsError } from '../../src/gsms/errors.js';

const AUTHORIZATION = 'XBL3.0 x=2535405290;eyJ-faults-secret-token';
const SESSION = '/serviceconfigs/00000000-0000-0000-0000-0000000000aa/sessiontemplates/quick/sessions/f1';
const QUEUED = JSON.stringify({ pollIntervalMilliseconds: '1000', fulfillmentState: 'Queued' });

interface Received {
  at: number;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (n: number, req: IncomingMessage, res: ServerResponse) => void;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((dispose) => dispose()));
});

/** A server on port 0 whose handler gets the 1-based request number; records each request with its arrival time. */
async function startServer(handler: Handler) {
  const received: Received[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ at, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      handler(received.length, req, res);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${port}`, port, received, connections: () => connections };
}

function reply(res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function client(options: Partial<GsmsClientOptions> & { baseUrl: string }) {
  const attempts: { status: number | null; attempt: number; correlationId: string | null; errorCode?: string }[] = [];
  const retries: { attempt: number; delayMs: number; reason: string }[] = [];
  const gsms: GsmsClient = createGsmsClient({
    retry: { maxAttempts: 4, maxTotalMs: 5_000, minDelayMs: 10, maxDelayMs: 1_500 },
    observer: { onAttempt: (info) => attempts.push(info), onRetry: (info) => retries.push(info) },
    ...options,
  });
  cleanup.push(() => gsms.close());
  return { gsms, attempts, retries };
}

const call = (gsms: GsmsClient, extra: { signal?: AbortSignal; abortIfQueued?: boolean } = {}) =>
  gsms.requestCluster({ titleId: '1234', sessionId: SESSION, abortIfQueued: false, authorization: AUTHORIZATION, ...extra });

async function rejection(promise: Promise<unknown>): Promise<GsmsError> {
  const error = await promise.then(
    () => expect.unreachable('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GsmsError);
  expect(String((error as Error).message)).not.toContain('secret');
  return error as GsmsError;
}

describe('what goes on the wire', () => {
  it('posts to the prefixed path with exactly the spec headers and a Content-Length body', async () => {
    const server = await startServer((_n, _req, res) => reply(res, 200, QUEUED, { 'x-xblcorrelationid': 'w1' }));
    const { gsms } = client({ baseUrl: `${server.url}/gsms/`, userAgent: 'test-agent/1' });
    await call(gsms, { abortIfQueued: true });
    const [request] = server.received;
    expect(request).toMatchObject({ method: 'POST', url: '/gsms/titles/1234/clusters' });
    expect(request!.headers).toMatchObject({
      host: `127.0.0.1:${server.port}`,
      'user-agent': 'test-agent/1',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(request!.body)),
      'x-xbl-contract-version': '1',
      authorization: AUTHORIZATION,
    });
    expect(request!.headers['transfer-encoding']).toBeUndefined();
    expect(JSON.parse(request!.body)).toEqual({ sessionId: SESSION, abortIfQueued: true });
  });

  it('defaults the User-Agent to gsms-graphql/<version>', async () => {
    const server = await startServer((_n, _req, res) => reply(res, 200, QUEUED));
    const { gsms } = client({ baseUrl: server.url });
    await call(gsms);
    expect(server.received[0]!.headers['user-agent']).toMatch(/^gsms-graphql\/\d+\.\d+\.\d+/);
  });
});

describe('retryable statuses', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries %i and returns the answer that follows, on the same connection', async (status) => {
    const server = await startServer((n, _req, res) =>
      n === 1 ? reply(res, status, '{"error":"busy"}', { 'x-xblcorrelationid': 'first' }) : reply(res, 200, QUEUED, { 'x-xblcorrelationid': 'second' }),
    );
    const { gsms, attempts, retries } = client({ baseUrl: server.url });
    const answer = await call(gsms);
    expect(answer).toMatchObject({ state: 'QUEUED', correlationId: 'second' });
    expect(server.received).toHaveLength(2);
    expect(server.received[1]!.body).toBe(server.received[0]!.body);
    expect(attempts.map((a) => [a.attempt, a.status, a.correlationId])).toEqual([
      [1, status, 'first'],
      [2, 200, 'second'],
    ]);
    expect(retries).toEqual([{ attempt: 1, delayMs: expect.any(Number), reason: `status ${status}` }]);
    // undici drained the failed answer's body, so the keep-alive socket served the retry.
    expect(server.connections()).toBe(1);
  });

  it('waits as long as Retry-After says before the next try', async () => {
    const server = await startServer((n, _req, res) => (n === 1 ? reply(res, 429, '', { 'retry-after': '1' }) : reply(res, 200, QUEUED)));
    const { gsms, retries } = client({ baseUrl: server.url });
    await call(gsms);
    const [first, second] = server.received;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    expect(second!.at - first!.at).toBeLessThan(1_500);
    expect(retries[0]).toMatchObject({ delayMs: 1_000, reason: 'status 429' });
  });

  it('caps a long Retry-After at maxDelayMs', async () => {
    const server = await startServer((n, _req, res) => (n === 1 ? reply(res, 503, '', { 'retry-after': '120' }) : reply(res, 200, QUEUED)));
    const { gsms } = client({ baseUrl: server.url, retry: { maxAttempts: 3, maxTotalMs: 5_000, minDelayMs: 10, maxDelayMs: 150 } });
    await call(gsms);
    const gap = server.received[1]!.at - server.received[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(140);
    expect(gap).toBeLessThan(1_000);
  });

  it('gives up at once when Retry-After would pass the total-time limit', async () => {
    const server = await startServer((_n, _req, res) => reply(res, 503, '', { 'retry-after': '2', 'x-xblcorrelationid': 'late' }));
    const { gsms } = client({ baseUrl: server.url, retry: { maxAttempts: 5, maxTotalMs: 1_000, minDelayMs: 10, maxDelayMs: 5_000 } });
    const started = performance.now();
    const error = await rejection(call(gsms));
    expect(performance.now() - started).toBeLessThan(500);
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503, correlationId: 'late' });
    expect(server.received).toHaveLength(1);
  });
});

describe('bounds', () => {
  it('fails UPSTREAM_UNAVAILABLE with the last correlation id after maxAttempts', async () => {
    const server = await startServer((n, _req, res) => reply(res, 503, '{}', { 'x-xblcorrelationid': `c${n}` }));
    const { gsms, attempts, retries } = client({ baseUrl: server.url });
    const error = await rejection(call(gsms));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503, correlationId: 'c4' });
    expect(server.received).toHaveLength(4);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(retries).toHaveLength(3);
  });

  it('backs off exponentially with jitter between tries', async () => {
    const server = await startServer((_n, _req, res) => reply(res, 500));
    const { gsms, retries } = client({ baseUrl: server.url, retry: { maxAttempts: 4, maxTotalMs: 5_000, minDelayMs: 40, maxDelayMs: 1_000 } });
    await rejection(call(gsms));
    // Equal jitter: retry n waits within [ceiling/2, ceiling], ceiling = 40 * 2^(n-1).
    retries.forEach(({ delayMs }, i) => {
      const ceiling = 40 * 2 ** i;
      expect(delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delayMs).toBeLessThanOrEqual(ceiling);
    });
    const gaps = server.received.slice(1).map((r, i) => r.at - server.received[i]!.at);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(retries[i]!.delayMs - 5));
  });

  it('stops within maxTotalMs however many attempts are left', async () => {
    const server = await startServer((_n, _req, res) => reply(res, 500));
    const { gsms } = client({ baseUrl: server.url, retry: { maxAttempts: 1_000, maxTotalMs: 400, minDelayMs: 50, maxDelayMs: 50 } });
    const started = performance.now();
    const error = await rejection(call(gsms));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    // A hard stop at 400 ms; the slack is for a busy test machine.
    expect(elapsed).toBeLessThan(700);
    // Waits of 25-50 ms (equal jitter on a 50 ms ceiling) fit roughly 8-16 tries in 400 ms.
    expect(server.received.length).toBeGreaterThan(3);
    expect(server.received.length).toBeLessThanOrEqual(17);
  });

  it('cuts an attempt still in flight at maxTotalMs', async () => {
    const server = await startServer(() => undefined); // never answers
    const { gsms } = client({ baseUrl: server.url, headersTimeoutMs: 10_000, retry: { maxAttempts: 3, maxTotalMs: 300, minDelayMs: 10, maxDelayMs: 100 } });
    const started = performance.now();
    const error = await rejection(call(gsms));
    expect(performance.now() - started).toBeLessThan(800);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.message).toMatch(/within 300 ms/);
  });
});

describe('network failures', () => {
  it('retries after the connection is reset', async () => {
    const server = await startServer((n, req, res) => (n === 1 ? req.socket.destroy() : reply(res, 200, QUEUED)));
    const { gsms, attempts } = client({ baseUrl: server.url });
    await expect(call(gsms)).resolves.toMatchObject({ state: 'QUEUED' });
    expect(server.received).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ attempt: 1, status: null, errorCode: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)$/) });
  });

  it('fails UPSTREAM_UNAVAILABLE fast when headers do not come within headersTimeoutMs, after retrying', async () => {
    const server = await startServer(() => undefined);
    const { gsms, attempts } = client({ baseUrl: server.url, headersTimeoutMs: 100, retry: { maxAttempts: 2, maxTotalMs: 5_000, minDelayMs: 10, maxDelayMs: 20 } });
    const started = performance.now();
    const error = await rejection(call(gsms));
    // undici runs headers/body timeouts on its coarse "fast timers" (about 0.5-1 s resolution), so each
    // 100 ms timeout fires within about a second: fast next to the 10 s default.
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(server.received).toHaveLength(2);
    expect(attempts.map((a) => a.errorCode)).toEqual(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);
  });

  it('fails UPSTREAM_UNAVAILABLE when nothing listens, after retrying the refused connection', async () => {
    const server = await startServer(() => undefined);
    await cleanup.pop()!(); // close it: the port now refuses connections
    const { gsms, attempts } = client({ baseUrl: server.url, retry: { maxAttempts: 3, maxTotalMs: 5_000, minDelayMs: 5, maxDelayMs: 10 } });
    const error = await rejection(call(gsms));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(attempts.map((a) => a.errorCode)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('does not retry an answer whose body breaks after a 200 was handed over', async () => {
    const server = await startServer((_n, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"fulfillmentState":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const { gsms } = client({ baseUrl: server.url });
    const error = await rejection(call(gsms));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(server.received).toHaveLength(1);
  });

  it('ends a retry wait as soon as the caller aborts', async () => {
    const server = await startServer((_n, _req, res) => reply(res, 503, '', { 'retry-after': '1' }));
    const { gsms } = client({ baseUrl: server.url });
    const controller = new AbortController();
    const started = performance.now();
    const pending = call(gsms, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await rejection(pending);
    expect(performance.now() - started).toBeLessThan(800);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.message).toMatch(/cancelled/);
    expect(server.received).toHaveLength(1);
  });
});

describe('final statuses', () => {
  it.each([
    [400, 'BAD_USER_INPUT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN'],
    [404, 'UPSTREAM_ERROR'],
    [501, 'UPSTREAM_ERROR'],
  ])('does not retry %i (%s)', async (status, code) => {
    const server = await startServer((_n, _req, res) => reply(res, status, '{"message":"no"}', { 'x-xblcorrelationid': 'final' }));
    const { gsms, retries } = client({ baseUrl: server.url });
    const error = await rejection(call(gsms));
    expect(error).toMatchObject({ code, status, correlationId: 'final' });
    expect(server.received).toHaveLength(1);
    expect(retries).toHaveLength(0);
  });
});
