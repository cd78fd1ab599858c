/**
 * Request body size limit, in front of yoga on node:http. Hand-written because yoga has no plugin for it
 * (docs/decisions.md, "Body size"): by the time a plugin runs, yoga is already reading the body.
 *
 * A body over `maxBytes` (by its Content-Length, or counted as it streams when chunked) answers 413 with a
 * JSON GraphQL error. The rest of the body is read and thrown away first, up to DRAIN_BYTES more, so the
 * client has finished sending when the answer arrives and reads it, instead of a reset on a socket closed
 * under its feet. A body bigger than that is not worth reading: the answer goes out and the socket closes.
 *
 * A body within the limit whose size is declared is left unread for yoga: Node's parser never delivers more
 * than Content-Length bytes, so nothing is counted or copied on the common path. A chunked body is read and
 * counted here, then handed to yoga as `req.body` (the @whatwg-node/server adapter takes an already-read body
 * that way), so yoga never reads an unbounded stream. The adapter cannot take an empty one that way (it would
 * wait on the drained stream), so an empty chunked body is answered here as the 400 it deserves.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export const PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE';
export const DRAIN_BYTES = 1024 * 1024;

function hasBody(req: IncomingMessage): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

function answerError(res: ServerResponse, status: number, error: { message: string; extensions: Record<string, unknown> }, close: boolean): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ errors: [error] });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

function answerTooLarge(res: ServerResponse, maxBytes: number, close: boolean): void {
  answerError(res, 413, { message: `The request body is larger than ${maxBytes} bytes.`, extensions: { code: PAYLOAD_TOO_LARGE, maxBytes } }, close);
}

export function limitRequestBody(maxBytes: number, next: RequestListener): RequestListener {
  return (req, res) => {
    if (!hasBody(req)) return void next(req, res);
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    if (declared !== undefined && declared <= maxBytes) return void next(req, res);
    if (declared !== undefined && declared > maxBytes + DRAIN_BYTES) {
      // Too big to drain: answer now and close once the answer is out.
      answerTooLarge(res, maxBytes, true);
      res.once('finish', () => req.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    // Declared here means declared over the limit (within it, the body went to yoga above): drain it.
    let tooLarge = declared !== undefined;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes && !tooLarge) {
        tooLarge = true;
        chunks.length = 0; // what was kept is no longer needed
      }
      if (!tooLarge) chunks.push(chunk);
      else if (received > maxBytes + DRAIN_BYTES) {
        req.off('data', onData);
        answerTooLarge(res, maxBytes, true);
        res.once('finish', () => req.destroy());
      }
    };
    req.on('data', onData);
    req.once('end', () => {
      if (tooLarge) return answerTooLarge(res, maxBytes, false);
      if (received === 0) return answerError(res, 400, { message: 'The request body is empty.', extensions: { code: 'BAD_REQUEST' } }, false);
      (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks, received);
      void next(req, res);
    });
    // A client that goes away mid-body needs no answer; the socket is already gone.
    req.once('error', () => req.destroy());
  };
}
