/**
 * A deliberately broken GSMS: a real node:http server on loopback whose answers to
 * `POST /titles/{titleId}/clusters` misbehave on demand. The emulator only fails with clean HTTP statuses;
 * this one also hangs, resets, truncates and talks nonsense, the way a sick upstream or a middlebox does.
 *
 * What an answer is, first match wins: the next queued behaviour (`queue`, one per request), else the
 * behaviour set for the request's title (`setTitle`), else the default. Every request is recorded, so a
 * test can await "the poller asked again" instead of sleeping.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour =
  /** A well-formed answer in this state (as GSMS writes it: capitalised, interval as a string). */
  | 'fulfilled'
  | 'queued'
  | 'aborted'
  /** Never answers: holds the request until the client gives up (headers timeout) or the server closes. */
  | 'slow'
  /** Destroys the connection as soon as the request arrives, with nothing written (ECONNRESET / UND_ERR_SOCKET). */
  | 'reset'
  /** A 200 whose Content-Length promises more than is sent, then the connection drops mid-body. */
  | 'truncated'
  /** A 200 with an HTML error page, as a proxy in front of GSMS might send. */
  | 'non-json'
  /** A 200 with valid JSON and a `fulfillmentState` the spec does not know. */
  | 'unknown-state'
  /** A 200 with no body at all. */
  | 'empty-200'
  /** This HTTP status with a small JSON error body (429 and 503 carry `Retry-After: 0`). */
  | { status: number };

export interface BrokenRequest {
  titleId: string;
  sessionId: string | null;
  behaviour: Behaviour;
  /** Whether the request carried an `Authorization` header (never its value). */
  authorized: boolean;
  at: number;
}

export interface BrokenUpstream {
  url: string;
  readonly requests: readonly BrokenRequest[];
  /** The behaviour for every request of this title from now on. */
  setTitle(titleId: string, behaviour: Behaviour): void;
  /** The next requests (of any title), one behaviour each, before the title rules apply again. */
  queue(...behaviours: Behaviour[]): void;
  setDefault(behaviour: Behaviour): void;
  /** Resolves on the next request matching the predicate (or one already recorded after `since`). */
  waitForRequest(predicate: (r: BrokenRequest) => boolean, options?: { since?: number; timeoutMs?: number }): Promise<BrokenRequest>;
  /** Connections open on the server side right now (keep-alive, hanging and in-flight). */
  openConnections(): Promise<number>;
  close(): Promise<void>;
}

const CLUSTERS_PATH = /^\/titles\/([^/?]*)\/clusters(?:\?.*)?$/;
const WIRE_STATE = { fulfilled: 'Fulfilled', queued: 'Queued', aborted: 'Aborted' } as const;

export async function startBrokenUpstream(options: { defaultBehaviour?: Behaviour; pollIntervalMs?: number } = {}): Promise<BrokenUpstream> {
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  let fallback: Behaviour = options.defaultBehaviour ?? 'queued';
  const byTitle = new Map<string, Behaviour>();
  const queued: Behaviour[] = [];
  const requests: BrokenRequest[] = [];
  const waiters = new Set<{ predicate: (r: BrokenRequest) => boolean; resolve: (r: BrokenRequest) => void }>();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    req.on('error', () => {});
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const titleId = CLUSTERS_PATH.exec(req.url ?? '')?.[1] ?? '';
      const behaviour = queued.shift() ?? byTitle.get(titleId) ?? fallback;
      const record: BrokenRequest = {
        titleId,
        sessionId: sessionIdOf(Buffer.concat(chunks).toString('utf8')),
        behaviour,
        authorized: typeof req.headers.authorization === 'string',
        at: Date.now(),
      };
      requests.push(record);
      for (const waiter of waiters) {
        if (waiter.predicate(record)) {
          waiters.delete(waiter);
          waiter.resolve(record);
        }
      }
      answer(req, res, behaviour, pollIntervalMs);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setTitle: (titleId, behaviour) => void byTitle.set(titleId, behaviour),
    queue: (...behaviours) => void queued.push(...behaviours),
    setDefault: (behaviour) => void (fallback = behaviour),
    waitForRequest(predicate, { since = 0, timeoutMs = 10_000 } = {}) {
      const seen = requests.find((r) => r.at >= since && predicate(r));
      if (seen && since > 0) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (r: BrokenRequest) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`broken upstream: no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    openConnections: () => new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function answer(req: IncomingMessage, res: ServerResponse, behaviour: Behaviour, pollIntervalMs: number): void {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-xblcorrelationid': 'broken-upstream', ...headers });
    res.end(text);
  };
  if (typeof behaviour === 'object') {
    const retryAfter: Record<string, string> = behaviour.status === 429 || behaviour.status === 503 ? { 'retry-after': '0' } : {};
    return json(behaviour.status, { code: behaviour.status, description: 'broken upstream' }, retryAfter);
  }
  switch (behaviour) {
    case 'fulfilled':
      return json(200, {
        pollIntervalMilliseconds: String(pollIntervalMs),
        fulfillmentState: 'Fulfilled',
        hostName: 'broken-upstream.local',
        region: 'WestUS',
        portMappings: [{ Key: 'game', Value: { internal: 7777, external: 30001 } }],
        secureContext: '',
      });
    case 'queued':
    case 'aborted':
      return json(200, { pollIntervalMilliseconds: String(pollIntervalMs), fulfillmentState: WIRE_STATE[behaviour] });
    case 'slow':
      // Nothing is written; the client's timeout (or close()) ends it.
      return;
    case 'reset':
      req.socket.destroy();
      return;
    case 'truncated': {
      const partial = '{"pollIntervalMilliseconds":"100","fulfillmentSta';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(partial.length + 200) });
      // Flush the head and the partial body, then drop the connection mid-body.
      res.write(partial, () => setImmediate(() => req.socket.destroy()));
      return;
    }
    case 'non-json': {
      const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) });
      res.end(html);
      return;
    }
    case 'unknown-state':
      return json(200, { pollIntervalMilliseconds: String(pollIntervalMs), fulfillmentState: 'Provisioning' });
    case 'empty-200':
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      return;
  }
}

function sessionIdOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { sessionId?: unknown };
    return typeof parsed.sessionId === 'string' ? parsed.sessionId : null;
  } catch {
    return null;
  }
}
