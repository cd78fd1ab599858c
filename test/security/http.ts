/** Raw HTTP for the security tests: any headers, any body, and the answer's status, headers and JSON. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { request } from 'undici';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

export async function send(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string | Buffer | Readable } = {},
): Promise<RawAnswer> {
  const response = await request(url, { method: options.method ?? 'POST', headers: options.headers, body: options.body });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** A JSON POST of an operation to /graphql with the given headers. */
export function post(gatewayUrl: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return send(`${gatewayUrl}/graphql`, {
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
}

export const OPERATOR_KEY = 'op-key-3f9a1c-for-tests-only';
export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');
