/**
 * A real gateway in front of any upstream (the emulator, the broken upstream, a proxy), for the proof tests:
 * like test/support/gateway.ts, but the upstream is the test's choice and the logs can be captured.
 */
import type { Writable } from 'node:stream';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildApp, type GatewayApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { AUTH, postGraphQL, type GraphQLResponse } from '../support/gateway.js';

export interface ProofGateway {
  url: string;
  wsUrl: string;
  app: GatewayApp;
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, authorization?: string | null): Promise<GraphQLResponse<T>>;
  wsClient(connectionParams?: Record<string, unknown>): Client;
  close(): Promise<void>;
}

/** Short upstream timeouts so failure tests finish in about a second each. */
export const FAST_FAIL_ENV = {
  GSMS_CONNECT_TIMEOUT_MS: '300',
  GSMS_REQUEST_TIMEOUT_MS: '300',
  GSMS_RETRY_MAX_TOTAL_MS: '1200',
  GSMS_POLL_MAX_BACKOFF_MS: '400',
} as const;

export async function startProofGateway(
  upstreamUrl: string,
  options: { env?: Record<string, string>; logLevel?: string; logTo?: Writable } = {},
): Promise<ProofGateway> {
  const config = loadConfig({ LOG_LEVEL: options.logLevel ?? 'silent', ...options.env });
  const logger = createLogger(config.logLevel, options.logTo);
  const app = buildApp(config, upstreamUrl, logger);
  const url = await app.start(0, '127.0.0.1');
  const wsUrl = `${url.replace('http', 'ws')}/graphql`;
  const clients: Client[] = [];
  let closing: Promise<void> | undefined;
  return {
    url,
    wsUrl,
    app,
    graphql: (query, variables, authorization = AUTH) => postGraphQL(url, query, variables, authorization),
    wsClient(connectionParams = { authorization: AUTH }) {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams });
      clients.push(client);
      return client;
    },
    /** Idempotent, so a test may close early and still register it for cleanup. */
    close() {
      closing ??= (async () => {
        await Promise.all(clients.map((c) => c.dispose()));
        await app.stop();
      })();
      return closing;
    },
  };
}

/** The `extensions.code` of each error of a response, in order. */
export function errorCodes(response: { errors?: { extensions?: Record<string, unknown> }[] }): unknown[] {
  return (response.errors ?? []).map((e) => e.extensions?.code);
}
