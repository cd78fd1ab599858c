/**
 * Wiring only: yoga on node:http at /graphql (queries, mutations, SSE subscriptions), graphql-ws on the
 * same port and path, GraphiQL, health. WebSocket operations run through `yoga.getEnveloped`, so both
 * transports share one context, one set of plugins and the same error masking.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, useReadinessCheck, type YogaInitialContext } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { GatewayContext } from '../resolvers/context.js';
import { schema } from '../schema/index.js';
import type { GatewayConfig } from './config.js';
import type { CredentialSources } from './credentials.js';
import { codedSocketErrors, codeSocketResult, useErrorCodes, withErrorCode } from './error-codes.js';
import { graphiqlOptions, renderGraphiQL } from './graphiql.js';
import { readinessResponse } from './readiness.js';
import { useDashboard } from './dashboard.js';
import { useGatewayMetrics } from './metrics/metrics-plugin.js';
import { countWebSocketConnections } from './metrics/websocket-connections.js';
import { useQueryStringJsonErrors } from './query-string-json.js';
import { createServices, type RunningServices } from './services.js';
import { createGatewaySecurity } from './security/gateway-security.js';
import { createRedisRateLimitStore } from './security/redis-rate-limit-store.js';
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
  const security = createGatewaySecurity(config.security, {
    defaultAuthorization: config.defaultAuthorization,
    // Scaled out, rate-limit counters live in Redis so an identity's allowance holds across instances.
    rateLimitStore: services.shared && config.redis ? createRedisRateLimitStore(services.shared.redis, config.redis.keyPrefix) : undefined,
  });

  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    context: (initial: YogaInitialContext & CredentialSources) => ({ services, ...security.identify(initial) }),
    graphiql: security.graphiql(graphiqlOptions),
    renderGraphiQL,
    logging: logger.child({ component: 'yoga' }),
    maskedErrors: { maskError: maskRegistryErrors },
    plugins: [
      useErrorCodes(),
      useQueryStringJsonErrors(),
      ...security.plugins,
      useReadinessCheck({ endpoint: '/ready', check: () => readinessResponse(services.readinessChecks) }),
      useGatewayMetrics(services.metrics, { serveEndpoint: config.operating.metrics }),
      ...(config.operating.dashboard ? [useDashboard(logger.child({ component: 'dashboard' }))] : []),
    ],
  });

  const server = createServer(security.limitBody(yoga));
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: security.maxWsPayloadBytes });
  countWebSocketConnections(wsServer, services.metrics.webSocketConnections);
  const wsDisposable = useServer(
    {
      // An error thrown by a plugin while executing (the rate limit, or Redis behind it) is the operation's
      // answer, masked as on HTTP, not a reason to drop the socket and every other operation on it.
      execute: async (args) => {
        try {
          return (await (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args)) as never;
        } catch (error) {
          return { errors: [error instanceof GraphQLError ? error : maskRegistryErrors(error, 'Unexpected error.', false)] } as never;
        }
      },
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onError: (_ctx, _id, _payload, errors) => codedSocketErrors(errors),
      onNext: (_ctx, _id, _payload, _args, result) => codeSocketResult(result),
      connectionInitWaitTimeout: security.ws.connectionInitWaitTimeout,
      onConnect: (ctx) => security.ws.onConnect(ctx),
      onClose: (ctx) => security.ws.onClose(ctx),
      onSubscribe: async (ctx, _id, payload) => {
        const overLimit = security.ws.checkSubscribe(ctx);
        if (overLimit) return [overLimit];
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
        let contextValue;
        try {
          contextValue = await contextFactory();
        } catch (error) {
          // A wrong operator key sent in the subscribe message's extensions.headers: UNAUTHENTICATED, socket kept.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        return {
          schema: enveloped,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
    },
    wsServer,
    security.ws.keepAliveMs,
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
