/**
 * Sends one fuzzed HTTP request and reads what came back as a caller would: status, and every GraphQL
 * result in the body whatever the transport (a JSON body, SSE `data:` lines, multipart parts).
 */
import { request } from 'undici';
import type { FuzzRequest } from './arbitraries.js';

export interface GraphQLError {
  message?: unknown;
  extensions?: { code?: unknown };
}

export interface FuzzAnswer {
  status: number;
  contentType: string;
  text: string;
  /** Every `{ data?, errors? }` object found in the body. */
  results: { data?: unknown; errors?: GraphQLError[] }[];
}

export async function send(baseUrl: string, fuzz: FuzzRequest): Promise<FuzzAnswer> {
  const sendsBody = fuzz.method !== 'GET' && fuzz.method !== 'HEAD' && fuzz.body !== undefined;
  const response = await request(`${baseUrl}${fuzz.path}`, {
    method: fuzz.method,
    headers: fuzz.headers,
    body: sendsBody ? fuzz.body : undefined,
    // A hanging answer is a failure too: these bound it well below the test timeout.
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await response.body.text();
  const contentType = String(response.headers['content-type'] ?? '');
  return { status: response.statusCode, contentType, text, results: graphqlResultsIn(contentType, text) };
}

function graphqlResultsIn(contentType: string, text: string): FuzzAnswer['results'] {
  const candidates = contentType.includes('json')
    ? [text]
    : contentType.includes('event-stream')
      ? text.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5))
      : contentType.includes('multipart')
        ? text.split(/\r?\n/).filter((line) => line.startsWith('{'))
        : [];
  const results: FuzzAnswer['results'] = [];
  for (const candidate of candidates) {
    if (candidate.trim() === '') continue;
    const parsed = JSON.parse(candidate) as unknown;
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      if (typeof item === 'object' && item !== null && ('errors' in item || 'data' in item)) results.push(item as FuzzAnswer['results'][number]);
    }
  }
  return results;
}

/** The problems with an answer, as readable lines; empty when the answer is a clear error or a result. */
export function problemsWith(answer: FuzzAnswer, secret: string): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`status ${answer.status}: ${answer.text.slice(0, 300)}`);
  if (answer.text.includes(secret)) problems.push('the answer echoes the credential token');
  for (const result of answer.results) {
    for (const error of result.errors ?? []) {
      const code = error.extensions?.code;
      if (typeof code !== 'string') problems.push(`an error without extensions.code: ${JSON.stringify(error).slice(0, 300)}`);
      else if (code === 'INTERNAL_SERVER_ERROR') problems.push(`an unexpected (masked) error: ${JSON.stringify(error).slice(0, 300)}`);
    }
  }
  return problems;
}
