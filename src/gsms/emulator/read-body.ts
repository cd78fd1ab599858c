/**
 * Reads a request body with a size bound. node:http has no body limit of its own and the emulator uses no
 * framework, so this is hand-written. Past the bound it keeps draining (up to `drainLimit`) so the client
 * reads our 413 instead of a broken pipe; past that it stops reading and the caller closes the connection.
 */
import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { kind: 'body'; bytes: Buffer }
  /** `drained` false: the client is still sending, so answer with `Connection: close`. */
  | { kind: 'too-large'; drained: boolean }
  /** The client went away before the end: there is no one to answer. */
  | { kind: 'aborted' };

export function readBody(req: IncomingMessage, limit: number, drainLimit = limit * 16): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > drainLimit) {
        req.pause();
        settle({ kind: 'too-large', drained: false });
      }
    };
    req.on('data', onData);
    req.on('end', () => settle(size > limit ? { kind: 'too-large', drained: true } : { kind: 'body', bytes: Buffer.concat(chunks) }));
    req.on('error', () => settle({ kind: 'aborted' }));
    req.on('close', () => settle({ kind: 'aborted' }));
  });
}
