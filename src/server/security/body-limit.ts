/**
 * Request body size limit, in front of yoga on node:http. Hand-written because yoga has no plugin for it
 * (docs/decisions.md, "Body size"): by the time a plugin runs, yoga is already reading the body.
 *
 * A body over `maxBytes` (by its Content-Length, or counted as it streams when chunked) is answered 413 with
 * a JSON GraphQL error at once, and the rest of the body is then read and thrown away, as nginx does with
 * `lingering_close`: a client that is still sending keeps its socket until it has sent everything, so it
 * reads the answer instead of a reset (Python's urllib writes the whole body before it reads, and a socket
 * closed with unread data resets). The answer is written whole but the response is ended only once the body
 * is: Node closes a `Connection: close` request's socket as soon as its response ends, which is the reset
 * this avoids (urllib always sends `Connection: close`). The lingering is bounded, so a slow or endless sender
 * cannot hold a socket: `totalMs` after the answer in all, `idleMs` without data, and `maxBytes` of body in
 * all; past any bound the socket is destroyed. A body declared bigger than the byte budget is not worth
 * reading: the answer goes out with `Connection: close`.
 *
 * A body within the limit whose size is declared is left unread for yoga: Node's parser never delivers more
 * than Content-Length bytes, so nothing is counted or copied on the common path. A chunked body is read and
 * counted here, then handed to yoga as `req.body` (the @whatwg-node/server adapter takes an already-read body
 * that way), so yoga never reads an unbounded stream. The adapter cannot take an empty one that way (it would
 * wait on the drained stream), so an empty chunked body is answered here as the 400 it deserves.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export const PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE';

/** How long, and how much, a refused body is read before its socket is closed (nginx's defaults for time). */
export interface LingerBounds {
  /** Longest time a refused body is read after the answer (nginx `lingering_time`: 30 s). */
  totalMs: number;
  /** Longest wait for the next chunk of a refused body (nginx `lingering_timeout`: 5 s). */
  idleMs: number;
  /** Most bytes of one request body read in all, refused part included: enough for realistic uploads. */
  maxBytes: number;
}

export const DEFAULT_LINGER: Readonly<LingerBounds> = { totalMs: 30_000, idleMs: 5_000, maxBytes: 64 * 1024 * 1024 };

function hasBody(req: IncomingMessage): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

type Ending = 'end' | 'close' | 'leave open';

/** `leave open`: the whole answer is written, but the response is ended later (see `linger`). */
function answerError(res: ServerResponse, status: number, error: { message: string; extensions: Record<string, unknown> }, ending: Ending = 'end'): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ errors: [error] });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(ending === 'close' ? { connection: 'close' } : {}),
  });
  if (ending === 'leave open') res.write(body);
  else res.end(body);
}

function answerTooLarge(res: ServerResponse, maxBytes: number, ending: Ending): void {
  answerError(res, 413, { message: `The request body is larger than ${maxBytes} bytes.`, extensions: { code: PAYLOAD_TOO_LARGE, maxBytes } }, ending);
}

/**
 * Reads and discards what is left of a refused body within the bounds. `received` is what was read so far.
 * The 413 is already written; once the body has ended, the response ends too and the connection is as
 * clean as after any request (kept alive, or closed if the client asked).
 */
function linger(req: IncomingMessage, res: ServerResponse, received: number, bounds: LingerBounds): void {
  let total = received;
  const cutOff = () => req.socket.destroy();
  const totalTimer = setTimeout(cutOff, bounds.totalMs);
  let idleTimer = setTimeout(cutOff, bounds.idleMs);
  const stop = () => {
    clearTimeout(totalTimer);
    clearTimeout(idleTimer);
    req.off('data', onData);
  };
  const onData = (chunk: Buffer) => {
    total += chunk.length;
    if (total > bounds.maxBytes) {
      stop();
      cutOff();
      return;
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(cutOff, bounds.idleMs);
  };
  req.on('data', onData);
  req.once('end', () => {
    stop();
    res.end();
  });
  req.once('close', stop);
  // A refused body is read only to be thrown away: no back-pressure from here.
  req.resume();
}

export function limitRequestBody(maxBytes: number, next: RequestListener, lingerBounds: LingerBounds = DEFAULT_LINGER): RequestListener {
  return (req, res) => {
    if (!hasBody(req)) return void next(req, res);
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    if (declared !== undefined && declared <= maxBytes) return void next(req, res);
    // A client that goes away mid-body needs no answer; the socket is already gone.
    req.once('error', () => req.destroy());
    if (declared !== undefined) {
      if (declared > lingerBounds.maxBytes) {
        // More than would ever be read: answer now and close once the answer is out.
        answerTooLarge(res, maxBytes, 'close');
        res.once('finish', () => req.destroy());
        return;
      }
      answerTooLarge(res, maxBytes, 'leave open');
      return linger(req, res, 0, lingerBounds);
    }

    // Chunked: counted as it streams, kept until it is over the limit.
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      answerTooLarge(res, maxBytes, 'leave open');
      linger(req, res, received, lingerBounds);
    };
    const onEnd = () => {
      if (received === 0) return answerError(res, 400, { message: 'The request body is empty.', extensions: { code: 'BAD_REQUEST' } });
      (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks, received);
      void next(req, res);
    };
    req.on('data', onData);
    req.once('end', onEnd);
  };
}
