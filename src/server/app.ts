/**
 * Wiring only: yoga on node:http at /graphql (queries, mutations, SSE subscriptions), graphql-ws on the
 * same port and path (graphql-ws.ts), GraphiQL, health, metrics and the dashboard.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, type YogaInitialContext } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { GatewayContext } from '../resolvers/context.js';
import { schema } from '../schema/index.js';
import type { GatewayConfig } from './config.js';
import type { CredentialSources } from './security/credentials.js';
import { useErrorCodes } from './errors/error-codes.js';
import { useLeanSubscribe } from './ws/lean-subscribe.js';
import { serveGraphQLOverWebSocket } from './ws/graphql-ws.js';
import { graphiqlOptions, renderGraphiQL } from './web/graphiql.js';
import { useGraphiQLAssets } from './web/graphiql-assets.js';
import { useReadinessEndpoint } from './metrics/readiness.js';
import { useDashboard } from './web/dashboard.js';
import { useGatewayMetrics } from './metrics/metrics-plugin.js';
import { countWebSocketConnections } from './metrics/websocket-connections.js';
import { useQueryStringJsonErrors } from './errors/query-string-json.js';
import { createServices, type RunningServices } from './services.js';
import { createGatewaySecurity } from './security/gateway-security.js';
import { maskRegistryErrors } from './redis/errors.js';
import type { GatewayTracing } from './tracing/gateway-tracing.js';

export interface GatewayApp {
  readonly services: RunningServices;
  readonly server: Server;
  /** Listens and resolves with the bound URL (use port 0 for a free one). */
  start(port?: number, host?: string): Promise<string>;
  /** Stops taking work, ends subscriptions and pollers, closes sockets. */
  stop(): Promise<void>;
}

/** `tracing`: given when tracing is on (main.ts loads it first); its plugins add the operation spans. */
export function buildApp(config: GatewayConfig, gsmsBaseUrl: string, logger: Logger, tracing?: GatewayTracing): GatewayApp {
  const services = createServices(config, gsmsBaseUrl, logger, tracing);
  const security = createGatewaySecurity(config.security, {
    defaultAuthorization: config.defaultAuthorization,
    // Scaled out, rate-limit counters live in Redis so an identity's allowance holds across instances.
    sharedRateLimitStore: services.shared && config.redis ? { redis: services.shared.redis, keyPrefix: config.redis.keyPrefix } : undefined,
  });

  const graphiql = security.graphiql(graphiqlOptions);
  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    context: (initial: YogaInitialContext & CredentialSources) => ({ services, ...security.identify(initial) }),
    graphiql,
    renderGraphiQL,
    logging: logger.child({ component: 'yoga' }),
    maskedErrors: { maskError: maskRegistryErrors },
    // security.limitBody (below) already bounds every body before yoga reads it (by its declared length, or
    // counted as it streams); yoga's own limit would pipe each body through a counting stream again (~10% of
    // a requestCluster's CPU in a profile).
    maxRequestBodySize: false,
    plugins: [
      useLeanSubscribe(),
      useErrorCodes(),
      // After the codes are set, before the security plugins (a rate-limited operation gets its span too).
      ...(tracing?.yogaPlugins ?? []),
      useQueryStringJsonErrors(),
      ...security.plugins,
      useReadinessEndpoint('/ready', services.readinessChecks),
      useGatewayMetrics(services.metrics, { serveEndpoint: config.operating.metrics }),
      ...(graphiql ? [useGraphiQLAssets(logger.child({ component: 'graphiql' }))] : []),
      ...(config.operating.dashboard ? [useDashboard(logger.child({ component: 'dashboard' }))] : []),
    ],
  });

  const server = createServer(security.limitBody(yoga));
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: security.maxWsPayloadBytes });
  countWebSocketConnections(wsServer, services.metrics.webSocketConnections);
  const wsDisposable = serveGraphQLOverWebSocket(yoga, wsServer, security);

  return {
    services,
    server,
    async start(port = config.port, host = config.host) {
      await services.whenReady();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const { port: bound } = server.address() as AddressInfo;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${bound}`);
        });
      });
    },
    async stop() {
      await services.poller.stop();
      await wsDisposable.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await yoga.dispose();
      await services.close();
    },
  };
}
