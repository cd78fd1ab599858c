/**
 * Every emulator answer, success or failure, carries the headers the spec says GSMS always sends. Built in one
 * place so no path (including raw socket answers to unparseable HTTP) can forget one.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';

export type ExtraHeaders = Record<string, string>;

export function gsmsHeaders(contentLength: number): ExtraHeaders {
  return {
    'Cache-Control': 'no-store',
    'Content-Type': 'application/json',
    'Content-Length': String(contentLength),
    'X-Content-Type-Options': 'nosniff',
    'X-XblCorrelationId': randomUUID(),
    Date: new Date().toUTCString(),
  };
}

/** The small JSON body of every error answer. */
export function errorBody(status: number, message: string): { code: number; message: string } {
  return { code: status, message };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: ExtraHeaders = {}): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...gsmsHeaders(text.length), ...extra });
  res.end(text);
}

/** A whole HTTP/1.1 answer as bytes, for sockets that never produced a request object (`clientError`). */
export function rawJsonResponse(status: number, message: string): string {
  const text = JSON.stringify(errorBody(status, message));
  const headers = { ...gsmsHeaders(Buffer.byteLength(text)), Connection: 'close' };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${lines.join('\r\n')}\r\n\r\n${text}`;
}
