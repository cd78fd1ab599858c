/**
 * The emulator as an HTTP peer: headers, routing, credentials, body validation and robustness.
 * Everything goes through real HTTP (or raw sockets) against an emulator on port 0.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it, expect, vi } from 'vitest';
import type { ClusterPool } from '../../src/gsms/emulator/cluster-pool.js';
import { FaultInjector } from '../../src/gsms/emulator/fault-injector.js';
import { createClusterHandler } from '../../src/gsms/emulator/http-handler.js';
import { RequestLog } from '../../src/gsms/emulator/request-log.js';
import type { RunningEmulator } from '../../src/gsms/emulator/server.js';
import { postCluster, sessionPath, useEmulator, type ClusterResponse } from '../support/emulator.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectGsmsHeaders(response: ClusterResponse): void {
  const { headers } = response;
  expect(headers['cache-control']).toBe('no-store');
  expect(headers['content-type']).toBe('application/json');
  expect(headers['content-length']).toBe(String(Buffer.byteLength(response.text)));
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-xblcorrelationid']).toMatch(UUID);
  expect(Number.isNaN(Date.parse(String(headers.date)))).toBe(false);
}

function expectError(response: ClusterResponse, status: number): void {
  expect(response.status).toBe(status);
  expectGsmsHeaders(response);
  expect(response.body).toMatchObject({ code: status, message: expect.any(String) });
}

/** Sends raw bytes and resolves with whatever comes back before the server closes (or a short quiet spell). */
function sendRaw(emulator: RunningEmulator, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(emulator.port, '127.0.0.1');
    const received: Buffer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(Buffer.concat(received).toString('latin1'));
    };
    const quiet = setTimeout(done, 1000);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(quiet);
      done();
    });
    socket.write(bytes);
  });
}

describe('response headers', () => {
  const emulator = useEmulator({ deniedTitles: ['4242'] });

  it('sends the GSMS headers, with a fresh correlation id, on success', async () => {
    const first = await postCluster(emulator(), { titleId: 100, body: { sessionId: sessionPath('headers') } });
    const second = await postCluster(emulator(), { titleId: 100, body: { sessionId: sessionPath('headers') } });
    expect(first.status).toBe(200);
    expectGsmsHeaders(first);
    expectGsmsHeaders(second);
    expect(first.headers['x-xblcorrelationid']).not.toBe(second.headers['x-xblcorrelationid']);
  });

  it('sends them on every kind of error, with a small JSON body', async () => {
    expectError(await postCluster(emulator(), { authorization: null }), 401);
    expectError(await postCluster(emulator(), { titleId: 4242 }), 403);
    expectError(await postCluster(emulator(), { path: '/titles/1/elsewhere' }), 404);
    expectError(await postCluster(emulator(), { method: 'GET' }), 405);
    expectError(await postCluster(emulator(), { body: '{' }), 400);
    expectError(await postCluster(emulator(), { body: 'x'.repeat(70 * 1024) }), 413);
    emulator().injectFaults([503]);
    expectError(await postCluster(emulator(), { titleId: 101 }), 503);
  });
});

describe('answer body', () => {
  const emulator = useEmulator({ pollIntervalMs: 250, capacity: 0 });

  it('advises the poll interval as a string of digits', async () => {
    const response = await postCluster(emulator(), { body: { sessionId: sessionPath('interval') } });
    expect(response.body).toEqual({ pollIntervalMilliseconds: '250', fulfillmentState: 'Queued' });
  });
});

describe('routing', () => {
  const emulator = useEmulator();

  it('answers 404 for any other path', async () => {
    for (const path of ['/', '/titles/1/clusterz', '/titles/1/clusters/x', '/titles/clusters', '/titles/1/2/clusters']) {
      expectError(await postCluster(emulator(), { path }), 404);
    }
  });

  it('answers 405 with Allow: POST for other methods on the clusters path', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const response = await postCluster(emulator(), { method });
      expectError(response, 405);
      expect(response.headers.allow).toBe('POST');
    }
  });

  it('answers 400 for a title id that is not a decimal uint32', async () => {
    for (const titleId of ['abc', '0x10', '-1', '1.5', '4294967296', '%31']) {
      expectError(await postCluster(emulator(), { titleId }), 400);
    }
  });

  it('accepts the largest uint32 and ignores a query string', async () => {
    expect((await postCluster(emulator(), { titleId: '4294967295' })).status).toBe(200);
    expect((await postCluster(emulator(), { path: '/titles/77/clusters?x=1' })).status).toBe(200);
  });
});

describe('authorization', () => {
  const emulator = useEmulator({ deniedTitles: ['4242'] });

  it('answers 401 when the credential is missing or not XBL3.0 x=<hash>;<token>', async () => {
    for (const authorization of [null, '', 'Bearer abc', 'XBL3.0 x=user1', 'XBL3.0 x=;token', 'XBL3.0 user1;token', 'xbl3.0 x=u;t']) {
      expectError(await postCluster(emulator(), { authorization }), 401);
    }
  });

  it('checks the credential before the body', async () => {
    expectError(await postCluster(emulator(), { authorization: null, body: 'not json' }), 401);
  });

  it('answers 403 for a denied title, before the body, whatever its spelling', async () => {
    expectError(await postCluster(emulator(), { titleId: 4242 }), 403);
    expectError(await postCluster(emulator(), { titleId: '04242', body: '[]' }), 403);
    expect((await postCluster(emulator(), { titleId: 4243 })).status).toBe(200);
  });
});

describe('request body validation', () => {
  const emulator = useEmulator();

  it.each([
    ['bad JSON', '{"sessionId": '],
    ['an empty body', ''],
    ['an array', [{ sessionId: sessionPath('a') }]],
    ['null', 'null'],
    ['a string', '"text"'],
    ['no sessionId', { abortIfQueued: true }],
    ['a numeric sessionId', { sessionId: 42 }],
    ['a sessionId that is not a session path', { sessionId: '/serviceconfigs/x/sessiontemplates/q/sessions/a' }],
    ['a sessionId with extra segments', { sessionId: `${sessionPath('a')}/members/me` }],
    ['abortIfQueued 1', { sessionId: sessionPath('a'), abortIfQueued: 1 }],
    ['abortIfQueued "yes"', { sessionId: sessionPath('a'), abortIfQueued: 'yes' }],
    ['abortIfQueued null', { sessionId: sessionPath('a'), abortIfQueued: null }],
  ])('answers 400 for %s', async (_name, body) => {
    expectError(await postCluster(emulator(), { body }), 400);
  });

  it('answers 413 for a body over 64 KiB, and keeps serving', async () => {
    const body = { sessionId: sessionPath('big'), padding: 'x'.repeat(65 * 1024) };
    expectError(await postCluster(emulator(), { body }), 413);
    expect((await postCluster(emulator(), { body: { sessionId: sessionPath('after-big') } })).status).toBe(200);
  });

  it('answers 413 (readable, then closes) to a client still sending megabytes', async () => {
    const response = await postCluster(emulator(), { body: 'x'.repeat(4 * 1024 * 1024) });
    expectError(response, 413);
    expect(response.headers.connection).toBe('close');
    expect((await postCluster(emulator(), { body: { sessionId: sessionPath('after-huge') } })).status).toBe(200);
  });
});

describe('robustness', () => {
  const emulator = useEmulator();
  const stillServes = async (): Promise<void> => {
    const response = await postCluster(emulator(), { titleId: 9, body: { sessionId: sessionPath(`alive-${Math.random()}`) } });
    expect(response.status).toBe(200);
  };

  it('answers random bytes with a 400 and keeps serving', async () => {
    for (let i = 0; i < 20; i++) await sendRaw(emulator(), randomBytes(256 + i * 64));
    const reply = await sendRaw(emulator(), 'NOT HTTP AT ALL\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.toLowerCase()).toContain('x-xblcorrelationid:');
    await stillServes();
  });

  it('answers headers over the limit with 431 and keeps serving', async () => {
    const reply = await sendRaw(emulator(), `POST /titles/1/clusters HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
    await stillServes();
  });

  it('survives clients that hang up mid-body or mid-headers', async () => {
    for (const bytes of [
      `POST /titles/1/clusters HTTP/1.1\r\nHost: x\r\nAuthorization: XBL3.0 x=u;t\r\nContent-Length: 100\r\n\r\n{"sess`,
      'POST /titles/1/clusters HTTP/1.1\r\nHost: x\r\nContent-Le',
    ]) {
      const socket = connect(emulator().port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.write(bytes, () => resolve()));
      socket.destroy();
    }
    await stillServes();
  });

  it('survives invalid UTF-8 and deeply nested JSON bodies', async () => {
    expectError(await postCluster(emulator(), { body: randomBytes(1024) }), 400);
    expectError(await postCluster(emulator(), { body: '['.repeat(60_000) + ']'.repeat(60_000) }), 413);
    expectError(await postCluster(emulator(), { body: '['.repeat(30_000) + ']'.repeat(30_000) }), 400);
    await stillServes();
  });

  it('turns an exception in the handler into a 500 JSON answer', async () => {
    const throwingPool = { request: () => { throw new Error('boom'); } } as unknown as ClusterPool;
    const server = createServer(
      createClusterHandler({ pool: throwingPool, faults: new FaultInjector(0), log: new RequestLog(), pollIntervalMs: 1000, deniedTitles: new Set() }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { port } = server.address() as AddressInfo;
      const response = await postCluster({ url: `http://127.0.0.1:${port}` } as RunningEmulator);
      expectError(response, 500);
      expect(quiet).toHaveBeenCalled();
    } finally {
      quiet.mockRestore();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
