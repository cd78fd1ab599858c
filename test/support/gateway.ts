/**
 * Starts a real gateway (node:http + graphql-ws on port 0) in front of a real emulator, and gives tests
 * the three ways callers talk to it: HTTP POST, SSE and graphql-ws.
 */
import { createClient, type Client } from 'graphql-ws';
import { request } from 'undici';
import WebSocket from 'ws';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import type { EmulatorOptions } from '../../src/gsms/emulator/options.js';
import { buildApp, type GatewayApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';

export const TITLE = '1234567890';
export const AUTH = 'XBL3.0 x=player-one;token-one-secret';
export const OTHER_AUTH = 'XBL3.0 x=player-two;token-two-secret';

/** A session path for a test; unique names keep tests independent. */
export function sessionPath(name: string): string {
  return `/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/sessions/${name}`;
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs an operation to a gateway's /graphql as JSON; `authorization: null` sends no credential. */
export async function postGraphQL<T = Record<string, unknown>>(
  baseUrl: string,
  query: string,
  variables?: Record<string, unknown>,
  authorization: string | null = AUTH,
): Promise<GraphQLResponse<T>> {
  const response = await request(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.statusCode, ...((await response.body.json()) as object) };
}

export interface TestGateway {
  url: string;
  app: GatewayApp;
  emulator: RunningEmulator;
  /** POSTs an operation; `authorization: null` sends none. */
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, authorization?: string | null): Promise<GraphQLResponse<T>>;
  /** A graphql-ws client that fails fast; closed with the gateway. */
  wsClient(connectionParams?: Record<string, unknown>): Client;
  close(): Promise<void>;
}

export async function startTestGateway(
  options: { emulator?: Partial<EmulatorOptions>; env?: Record<string, string> } = {},
): Promise<TestGateway> {
  const emulator = await startEmulator({ pollIntervalMs: 100, ...options.emulator });
  const config = loadConfig({ LOG_LEVEL: 'silent', ...options.env });
  const app = buildApp(config, emulator.url, createLogger(config.logLevel));
  const url = await app.start(0, '127.0.0.1');
  const clients: Client[] = [];

  return {
    url,
    app,
    emulator,
    graphql: (query, variables, authorization = AUTH) => postGraphQL(url, query, variables, authorization),
    wsClient(connectionParams = { authorization: AUTH }) {
      const client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      await emulator.close();
    },
  };
}

/** Collects every `next` payload of a graphql-ws subscription until it completes or errors. */
export function collectWs<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  onNext?: (payload: GraphQLResponse<T>) => void,
): Promise<{ results: GraphQLResponse<T>[]; error?: unknown }> {
  const results: GraphQLResponse<T>[] = [];
  return new Promise((resolve) => {
    client.subscribe<T>(
      { query, variables },
      {
        next: (payload) => {
          const result = payload as GraphQLResponse<T>;
          results.push(result);
          onNext?.(result);
        },
        error: (error) => resolve({ results, error }),
        complete: () => resolve({ results }),
      },
    );
  });
}

/** Reads an SSE subscription to its end, returning the `next` payloads. */
export async function collectSse<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  authorization: string = AUTH,
  onNext?: (payload: GraphQLResponse<T>) => void,
): Promise<GraphQLResponse<T>[]> {
  const response = await request(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization },
    body: JSON.stringify({ query, variables }),
  });
  const results: GraphQLResponse<T>[] = [];
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += chunk.toString();
    let boundary;
    while ((boundary = buffer.indexOf('\n\n')) !== -1) {
      const message = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const event = /^event: (.*)$/m.exec(message)?.[1];
      const data = /^data: (.*)$/m.exec(message)?.[1];
      if (event === 'next' && data) {
        const payload = JSON.parse(data) as GraphQLResponse<T>;
        results.push(payload);
        onNext?.(payload);
      }
      if (event === 'complete') return results;
    }
  }
  return results;
}

/**
 * States in order with repeats folded: a queued session's subscribers may also get queue-position events,
 * which repeat QUEUED with a new standing.
 */
export function foldRepeats<T>(states: readonly T[]): T[] {
  return states.filter((state, i) => i === 0 || state !== states[i - 1]);
}
