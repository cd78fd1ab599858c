/**
 * Fuzzing the emulator: random bytes on a raw TCP connection, and random HTTP requests (methods, paths,
 * credentials, bodies). It must answer every one with a JSON answer that is not a 500 (or close a connection
 * that is not HTTP), answer a well-formed request correctly, and keep serving afterwards.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { parseSessionPath } from '../../src/gsms/session-id.js';
import { parseXblAuthorization } from '../../src/gsms/xbl-authorization.js';
import { parseAbortIfQueued } from '../../src/gsms/wire.js';
import { authorizationArb, sessionIdArb, titleIdArb } from './arbitraries.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ capacity: 1_000_000, pollIntervalMs: 1000 });
});
afterAll(async () => {
  await emulator?.close();
});

/** Writes the bytes, half-closes, and reads whatever comes back until the server closes (5 s at most). */
function rawExchange(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(emulator.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the emulator neither answered nor closed within 5 s'));
    }, 5_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.end(bytes);
  });
}

const rawBytesArb = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 500 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 300, unit: 'binary' }).map((s) => Buffer.from(s)),
  // Almost-HTTP: a real request line and headers with noise spliced in.
  fc
    .tuple(fc.constantFrom('POST', 'GET', 'BREW', 'post', ''), fc.string({ maxLength: 40 }), fc.string({ maxLength: 100, unit: 'binary' }), fc.nat({ max: 1_000 }))
    .map(([method, path, noise, length]) => Buffer.from(`${method} /titles/${path}/clusters HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n${noise}\r\n\r\n{"sessionId":`)),
  fc.nat({ max: 20_000 }).map((n) => Buffer.from(`GET / HTTP/1.1\r\nX-Long: ${'a'.repeat(n * 10)}\r\n\r\n`)),
);

describe('random bytes on a raw connection', () => {
  it('are answered with an HTTP error (never a 500) or the connection is closed', async () => {
    await fc.assert(
      fc.asyncProperty(rawBytesArb, async (bytes) => {
        const answer = await rawExchange(bytes);
        if (answer === '') return;
        expect(answer).toMatch(/^HTTP\/1\.1 \d{3} /);
        expect(answer).not.toMatch(/^HTTP\/1\.1 5\d\d /);
      }),
      { numRuns: 400 },
    );
  });
});

const bodyArb = fc.oneof(
  fc.record({ sessionId: fc.oneof(sessionIdArb, fc.jsonValue()), abortIfQueued: fc.oneof(fc.boolean(), fc.constantFrom('true', 'FALSE', 'yes'), fc.jsonValue()) }, { requiredKeys: ['sessionId'] }).map((b) => JSON.stringify(b)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200, unit: 'binary' }),
);

describe('random HTTP requests', () => {
  it('get JSON answers, never a 500, and a well-formed request gets its cluster', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.oneof(titleIdArb.map((t) => `/titles/${encodeURIComponent(t)}/clusters`), fc.webPath(), fc.constantFrom('/', '/titles//clusters', '/titles/1/clusters/', '/titles/1/clusters?x=1')),
        authorizationArb,
        bodyArb,
        async (method, path, authorization, body) => {
          const response = await request(`${emulator.url}${path.startsWith('/') ? path : `/${path}`}`, {
            method: method as 'POST',
            headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
            body: method === 'GET' ? undefined : body,
            headersTimeout: 5_000,
            bodyTimeout: 5_000,
          });
          const text = await response.body.text();
          expect(response.statusCode).not.toBe(500);
          const answer = method === 'OPTIONS' && text === '' ? {} : (JSON.parse(text) as { fulfillmentState?: string });

          // The emulator, like any HTTP server, routes on the path and ignores a query string.
          const title = /^\/titles\/(\d+)\/clusters(\?.*)?$/.exec(path)?.[1];
          const parsed = (() => {
            try {
              return JSON.parse(body) as { sessionId?: unknown; abortIfQueued?: unknown };
            } catch {
              return null;
            }
          })();
          const wellFormed =
            method === 'POST' &&
            title !== undefined &&
            Number(title) <= 0xffff_ffff &&
            parseXblAuthorization(authorization) !== null &&
            parsed !== null &&
            typeof parsed === 'object' &&
            !Array.isArray(parsed) &&
            typeof parsed.sessionId === 'string' &&
            parseSessionPath(parsed.sessionId) !== null &&
            parseAbortIfQueued(parsed.abortIfQueued) !== null;
          if (wellFormed) {
            expect(response.statusCode).toBe(200);
            expect(answer.fulfillmentState).toBe('Fulfilled');
          } else {
            expect(response.statusCode).toBeGreaterThanOrEqual(400);
          }
        },
      ),
      { numRuns: 800 },
    );
  });

  it('the emulator still answers afterwards', async () => {
    const response = await request(`${emulator.url}/titles/1234/clusters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'XBL3.0 x=after;token' },
      body: JSON.stringify({ sessionId: '/serviceconfigs/00000000-0000-0000-0000-000000000001/sessiontemplates/t/sessions/after' }),
    });
    expect(response.statusCode).toBe(200);
    expect(((await response.body.json()) as { fulfillmentState: string }).fulfillmentState).toBe('Fulfilled');
  });
});
