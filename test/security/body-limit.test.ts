/**
 * Request body size: a body over GRAPHQL_MAX_BODY_BYTES is answered 413 with a JSON error the client
 * can read (Node's fetch included: the rest of the body is read and discarded after the answer, within
 * bounds), whether its size is declared or it streams chunked; the gateway goes on serving. A sender that
 * never stops is cut off by the lingering bounds. WebSocket messages have the same bound.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { limitRequestBody, type LingerBounds } from '../../src/server/security/body-limit.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { post, send } from './http.js';

const LIMIT = 4_096;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ env: { GRAPHQL_MAX_BODY_BYTES: String(LIMIT) } });
});
afterAll(() => gw?.close());

/** A JSON operation padded (in an unused variable) to exactly `bytes` bytes. */
function paddedBody(bytes: number): string {
  const empty = JSON.stringify({ query: '{ __typename }', variables: { pad: '' } });
  return JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(bytes - empty.length) } });
}

/** The same body streamed in small chunks with no Content-Length (Transfer-Encoding: chunked). */
function chunked(body: string, chunkBytes = 1_024): Readable {
  const buffer = Buffer.from(body);
  const chunks = Array.from({ length: Math.ceil(buffer.length / chunkBytes) }, (_, i) => buffer.subarray(i * chunkBytes, (i + 1) * chunkBytes));
  return Readable.from(chunks);
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function expectTooLarge(answer: Awaited<ReturnType<typeof send>>) {
  expect(answer.status).toBe(413);
  expect(answer.headers['content-type']).toMatch(/application\/json/);
  expect(answer.json()).toEqual({
    errors: [{ message: `The request body is larger than ${LIMIT} bytes.`, extensions: { code: 'PAYLOAD_TOO_LARGE', maxBytes: LIMIT } }],
  });
}

describe('a body over the limit is 413 with a JSON error', () => {
  it('a body at the limit is served', async () => {
    const answer = await send(`${gw.url}/graphql`, { headers: JSON_HEADERS, body: paddedBody(LIMIT) });
    expect(answer.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('declared by Content-Length', async () => {
    expectTooLarge(await send(`${gw.url}/graphql`, { headers: JSON_HEADERS, body: paddedBody(LIMIT + 1) }));
  });

  it('streamed chunked, with no Content-Length', async () => {
    expectTooLarge(await send(`${gw.url}/graphql`, { headers: JSON_HEADERS, body: chunked(paddedBody(LIMIT * 50)) }));
  });

  it('the client reads the answer after sending a much larger body (drained, not reset)', async () => {
    expectTooLarge(await send(`${gw.url}/graphql`, { headers: JSON_HEADERS, body: paddedBody(512 * 1024) }));
  });

  it('a chunked body within the limit is served', async () => {
    const answer = await send(`${gw.url}/graphql`, { headers: JSON_HEADERS, body: chunked(paddedBody(LIMIT - 10), 100) });
    expect(answer.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('an empty body is a coded 400, declared (Content-Length: 0) or chunked', async () => {
    for (const body of ['', Readable.from([])]) {
      const answer = await send(`${gw.url}/graphql`, { headers: JSON_HEADERS, body });
      expect(answer.status).toBe(400);
      expect(answer.json().errors?.[0]?.extensions?.code).toEqual(expect.any(String));
    }
  });

  it('the gateway keeps serving after refusals, including a 3 MB chunked body', async () => {
    expectTooLarge(await send(`${gw.url}/graphql`, { headers: JSON_HEADERS, body: chunked('x'.repeat(3 * 1024 * 1024), 64 * 1024) }));
    expect((await post(gw.url, '{ __typename }')).json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('every client reads the 413 of a 5 MB body', () => {
  const FIVE_MB = 5 * 1024 * 1024;

  async function expectFetchReadsTooLarge(response: Response) {
    expect(response.status).toBe(413);
    const answer = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(answer.errors[0]?.extensions.code).toBe('PAYLOAD_TOO_LARGE');
  }

  it("Node's fetch, declared by Content-Length", async () => {
    await expectFetchReadsTooLarge(await fetch(`${gw.url}/graphql`, { method: 'POST', headers: JSON_HEADERS, body: paddedBody(FIVE_MB) }));
    expect((await post(gw.url, '{ __typename }')).json()).toEqual({ data: { __typename: 'Query' } });
  });

  it("Node's fetch, streamed chunked", async () => {
    const body = Readable.toWeb(chunked(paddedBody(FIVE_MB), 64 * 1024)) as ReadableStream<Uint8Array>;
    await expectFetchReadsTooLarge(await fetch(`${gw.url}/graphql`, { method: 'POST', headers: JSON_HEADERS, body, duplex: 'half' } as RequestInit));
    expect((await post(gw.url, '{ __typename }')).json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('a client that writes the whole body before reading, with Connection: close (as Python\'s urllib does)', async () => {
    const { port } = new URL(gw.url);
    const body = paddedBody(FIVE_MB);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('data', (data) => (text += data.toString()));
      socket.once('error', reject);
      socket.once('close', () => resolve(text));
      socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      socket.end(body);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"PAYLOAD_TOO_LARGE"');
  });
});

describe('a sender that will not stop is cut off by the lingering bounds', () => {
  const BOUNDS: LingerBounds = { totalMs: 600, idleMs: 200, maxBytes: 200_000 };
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer(limitRequestBody(100, (_req, res) => res.end('served'), BOUNDS));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /**
   * A raw chunked POST that keeps sending `chunkBytes` every `everyMs` (or, with `everyMs` undefined, as fast
   * as the socket takes them) until the server closes the socket. Resolves with what the client read and
   * how long after the first byte the socket closed.
   */
  function endlessSender(chunkBytes: number, everyMs: number | undefined, sendLimit = Infinity): Promise<{ answer: string; closedAfterMs: number; sent: number }> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const started = Date.now();
      let answer = '';
      let sent = 0;
      const chunk = `${chunkBytes.toString(16)}\r\n${'x'.repeat(chunkBytes)}\r\n`;
      const sendOne = () => {
        if (socket.destroyed || sent >= sendLimit) return false;
        sent += chunkBytes;
        return socket.write(chunk);
      };
      let timer: NodeJS.Timeout | undefined;
      socket.on('data', (data) => (answer += data.toString()));
      socket.on('error', () => {}); // the cut-off may reach the client as a reset
      socket.once('close', () => {
        clearInterval(timer);
        resolve({ answer, closedAfterMs: Date.now() - started, sent });
      });
      socket.once('connect', () => {
        socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        if (everyMs !== undefined) {
          sendOne();
          timer = setInterval(sendOne, everyMs);
        } else {
          const pump = () => {
            while (sendOne());
          };
          socket.on('drain', pump);
          pump();
        }
      });
    });
  }

  it('after totalMs when it trickles forever', async () => {
    const { answer, closedAfterMs } = await endlessSender(100, 50);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
    expect(closedAfterMs).toBeGreaterThanOrEqual(BOUNDS.totalMs - 20);
    expect(closedAfterMs).toBeLessThan(BOUNDS.totalMs + 2_000);
  });

  it('after idleMs when it stops sending without ending the body', async () => {
    const { answer, closedAfterMs } = await endlessSender(1_000, 10, 5_000);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(BOUNDS.idleMs - 20);
    expect(closedAfterMs).toBeLessThan(BOUNDS.totalMs);
  });

  it('after maxBytes when it floods', async () => {
    const { answer, closedAfterMs, sent } = await endlessSender(16 * 1024, undefined);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(sent).toBeGreaterThan(BOUNDS.maxBytes);
    expect(closedAfterMs).toBeLessThan(BOUNDS.idleMs);
  });

  it('a body declared bigger than maxBytes is answered and closed at once', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: ${BOUNDS.maxBytes + 1}\r\n\r\n`));
      let text = '';
      socket.on('data', (data) => (text += data.toString()));
      socket.on('error', () => {});
      socket.once('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  it('goes on serving', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'small' });
    expect(await response.text()).toBe('served');
  });
});

describe('WebSocket messages have the same bound', () => {
  it('a message over the limit closes the socket with 1009 (message too big)', async () => {
    const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(LIMIT + 1) } }));
    expect(await closed).toBe(1009);
  });
});
