/**
 * `gateway`: our real app (buildApp) with everything a production start has: auth, validation, the
 * registry recording every answer, the poller, and pino at info (one line per request) written to
 * /dev/null, so the cost of formatting and writing each line is paid but no terminal is flooded.
 */
import { destination } from 'pino';
import { buildApp, type GatewayApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';

/**
 * The benchmark drives the gateway as a hundred identities (mutations) or one (fan-out), far beyond what a
 * player does, so per-identity allowances are raised past the load. The rate-limit plugin still runs and
 * counts every call, so its cost is measured.
 */
export const BENCH_GATEWAY_ENV: Record<string, string> = {
  RATE_LIMIT_REQUEST_CLUSTER: '1000000/1s',
  WS_MAX_CONNECTIONS_PER_IDENTITY: '100000',
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '100',
};

export async function startGateway(upstreamUrl: string, env: Record<string, string> = {}): Promise<{ url: string; app: GatewayApp; close(): Promise<void> }> {
  const config = loadConfig({ LOG_LEVEL: 'info', ...BENCH_GATEWAY_ENV, ...env });
  const logger = createLogger(config.logLevel, destination({ dest: '/dev/null', sync: false }));
  const app = buildApp(config, upstreamUrl, logger);
  const url = await app.start(0, '127.0.0.1');
  return { url: `${url}/graphql`, app, close: () => app.stop() };
}
