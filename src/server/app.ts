/**
 * Wiring only: yoga on node:http at /graphql (queries, mutations, SSE subscriptions), graphql-ws on the
 * same port and path, GraphiQL, health. WebSocket operations run through `yoga.getEnveloped`, so both
 * transports share one context, one set of plugins and the same error masking.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, useReadinessCheck, type YogaInitialContext } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { GatewayContext } from '../resolvers/context.js';
import { schema } from '../schema/index.js';
import type { GatewayConfig } from './config.js';
import { credentialFrom, type CredentialSources } from './credentials.js';
import { useErrorCodes, withErrorCode } from './error-codes.js';
import { graphiqlOptions, renderGraphiQL } from './graphiql.js';
import { readinessResponse } from './readiness.js';
import { useDashboard } from './dashboard.js';
import { useGatewayMetrics } from './metrics/metrics-plugin.js';
import { countWebSocketConnections } from './metrics/websocket-connections.js';
import { createServices, type RunningServices } from './services.js';
import { maskRegistryErrors } from './redis-errors.js';

export interface GatewayApp {
  readonly services: RunningServices;
  readonly server: Server;
  /** Listens and resolves with the bound URL (use port 0 for a free one). */
  start(port?: number, host?: string): Promise<string>;
  /** Stops taking work, ends subscriptions and pollers, closes sockets. */
  stop(): Promise<void>;
}

export function buildApp(config: GatewayConfig, gsmsBaseUrl: string, logger: Logger): GatewayApp {
  const services = createServices(config, gsmsBaseUrl, logger);

  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    context: (initial: YogaInitialContext & CredentialSources) => ({
      services,
      credential: credentialFrom(initial, config.defaultAuthorization),
    }),
    graphiql: graphiqlOptions,
    renderGraphiQL,
    logging: logger.child({ component: 'yoga' }),
    maskedErrors: { maskError: maskRegistryErrors },
    plugins: [
      useErrorCodes(),
      useReadinessCheck({ endpoint: '/ready', check: () => readinessResponse(services.readinessChecks) }),
      useGatewayMetrics(services.metrics),
      useDashboard(logger.child({ component: 'dashboard' })),
    ],
  });

  const server = createServer(yoga);
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  countWebSocketConnections(wsServer, services.metrics.webSocketConnections);
  const wsDisposable = useServer(
    {
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const { schema: enveloped, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [withErrorCode(error)] as never;
        }
        const errors = validate(enveloped, document);
        if (errors.length > 0) return errors.map(withErrorCode);
        return {
          schema: enveloped,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wsServer,
  );

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
