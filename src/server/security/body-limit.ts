/**
 * Request body size limit, in front of yoga on node:http. Hand-written because yoga has no plugin for it
 * (decisions.md, "Body size"): by the time a plugin runs, yoga is already reading the body.
 *
 * A body over `maxBytes` (by its Content-Length, or counted as it streams when chunked) answers 413 with a
 * JSON GraphQL error. The rest of the body is read and thrown away first, up to DRAIN_BYTES more, so the
 * client has finished sending when the answer arrives and reads it, instead of a reset on a socket closed
 * under its feet. A body bigger than that is not worth reading: the answer goes out and the socket closes.
 *
 * A body within the limit is buffered and handed to yoga as `req.body` (the @whatwg-node/server adapter
 * takes an already-read body that way), so yoga never reads an unbounded stream.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export const PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE';
export const DRAIN_BYTES = 1024 * 1024;

function hasBody(req: IncomingMessage): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

function answerTooLarge(res: ServerResponse, maxBytes: number, close: boolean): void {
  if (res.headersSent) return;
  const body = JSON.stringify({
    errors: [{ message: `The request body is larger than ${maxBytes} bytes.`, extensions: { code: PAYLOAD_TOO_LARGE, maxBytes } }],
  });
  res.writeHead(413, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

export function limitRequestBody(maxBytes: number, next: RequestListener): RequestListener {
  return (req, res) => {
    if (!hasBody(req)) return void next(req, res);
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes + DRAIN_BYTES) {
      // Too big to drain: answer now and close once the answer is out.
      answerTooLarge(res, maxBytes, true);
      res.once('finish', () => req.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = declared > maxBytes;
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
      (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks, received);
      void next(req, res);
    });
    // A client that goes away mid-body needs no answer; the socket is already gone.
    req.once('error', () => req.destroy());
  };
}
