/**
 * Starts the GSMS emulator: a real HTTP server on loopback, plus the controls tests and demos need (request
 * log, releasing clusters, capacity and faults at run time). Used by `npm run emulator`, the gateway's
 * embedded mode and test/support.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ClusterPool } from './cluster-pool.js';
import { FaultInjector } from './fault-injector.js';
import { createClusterHandler } from './http-handler.js';
import { rawJsonResponse } from './json-response.js';
import { DEFAULT_EMULATOR_OPTIONS, emulatorOptionsSchema, type EmulatorOptions } from './options.js';
import { RequestLog, type EmulatorRequestRecord } from './request-log.js';

// The public API promises these names from this module; they are defined next to the env parsing they share.
export { DEFAULT_EMULATOR_OPTIONS };
export type { EmulatorOptions, EmulatorRequestRecord };

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:43210 */
  url: string;
  port: number;
  /** Every answered POST to the clusters path, in order (the last 100k). */
  readonly requests: readonly EmulatorRequestRecord[];
  /** Count of clusters-path POSTs for one canonical session key (all statuses); all POSTs without a key. */
  requestCount(sessionKey?: string): number;
  /** Resolves on the next answered request matching the predicate (for tests that await instead of sleeping). */
  waitForRequest(predicate: (r: EmulatorRequestRecord) => boolean, timeoutMs?: number): Promise<EmulatorRequestRecord>;
  /** Ends every running cluster of a title (or of all titles) now, freeing capacity and allocating queued heads. */
  releaseClusters(titleId?: string): void;
  /** Changes capacity at run time (raising it allocates queued heads at once). */
  setCapacity(capacity: number): void;
  setFaultRate(rate: number): void;
  /** The next `statuses.length` eligible answers get these statuses (see FaultInjector.inject). */
  injectFaults(statuses: number[], retryAfter?: string): void;
  /** Sessions currently queued / running per title, for assertions. */
  snapshot(): { titleId: string; running: number; queued: number }[];
  /** Stops timers, closes the server and destroys open keep-alive sockets. */
  close(): Promise<void>;
}

export async function startEmulator(
  options: Partial<EmulatorOptions> = {},
  listen: { port?: number; host?: string } = {},
): Promise<RunningEmulator> {
  const settings = emulatorOptionsSchema.parse({ ...DEFAULT_EMULATOR_OPTIONS, ...options });
  const pool = new ClusterPool({ capacity: settings.capacity, clusterLifetimeMs: settings.clusterLifetimeMs });
  const faults = new FaultInjector(settings.faultRate);
  const log = new RequestLog();
  const server = createServer(
    createClusterHandler({ pool, faults, log, pollIntervalMs: settings.pollIntervalMs, deniedTitles: new Set(settings.deniedTitles) }),
  );
  server.on('clientError', answerClientError);

  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  // After listening, a server error (rare: e.g. EMFILE on accept) is logged, not thrown into nowhere.
  server.on('error', (error) => console.error('gsms emulator: server error', error));
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    get requests() {
      return log.records;
    },
    requestCount: (sessionKey) => log.count(sessionKey),
    waitForRequest: (predicate, timeoutMs) => log.waitFor(predicate, timeoutMs),
    releaseClusters: (titleId) => pool.release(titleId),
    setCapacity: (capacity) => {
      if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be a whole number ≥ 0, got ${capacity}`);
      pool.setCapacity(capacity);
    },
    setFaultRate: (rate) => faults.setRate(rate),
    injectFaults: (statuses, retryAfter) => faults.inject(statuses, retryAfter),
    snapshot: () => pool.snapshot(),
    close: () => (closing ??= closeServer(server, () => {
      pool.close();
      log.close();
    })),
  };
}

function closeServer(server: Server, stopState: () => void): Promise<void> {
  stopState();
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets would hold close() open until they time out.
    server.closeAllConnections();
  });
}

/**
 * Bytes that are not HTTP (or headers past node's limit) never reach the handler. Answer them as GSMS would,
 * with the usual headers, unless the socket is gone or already mid-answer.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const midAnswer = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (error.code === 'ECONNRESET' || !socket.writable || midAnswer) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  socket.end(rawJsonResponse(status, status === 431 ? 'request headers too large' : 'malformed HTTP request'));
}
