/**
 * Everything app.ts wires in for access and limits, built from the configuration in one place:
 * who the caller is (context), the yoga plugins (CSRF, introspection switch, graphql-armor limits, the
 * requestCluster rate limit), GraphiQL on or off, the body size limit on node:http, and the graphql-ws
 * limits. README "Security" describes the model.
 */
import type { RequestListener } from 'node:http';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import type { CredentialSources } from './credentials.js';
import { limitRequestBody } from './body-limit.js';
import { identifyCaller, identityKey, type CallerIdentity } from './caller.js';
import { CSRF_HEADER, useCsrfPrevention } from './csrf.js';
import { useNoIntrospection } from './introspection.js';
import { createOperatorKeys } from './operator-keys.js';
import { useQueryLimits } from './query-limits.js';
import { createRequestClusterLimiter, useRequestClusterRateLimit, type SharedRateLimitStore } from './rate-limit.js';
import type { SecurityConfig } from './security-config.js';
import { createWsLimits, type WsLimits } from './ws-limits.js';

export interface GatewaySecurity {
  /** Who is calling; throws UNAUTHENTICATED for a wrong operator key. */
  identify(sources: CredentialSources): CallerIdentity;
  /** yoga plugins, in the order they should run. */
  plugins: Plugin[];
  /** yoga's `graphiql` option: the given options (plus the CSRF header), or false when switched off. */
  graphiql(options: GraphiQLOptions): GraphiQLOptions | false;
  /** Wraps the node:http listener with the body size limit. */
  limitBody(listener: RequestListener): RequestListener;
  /** The largest WebSocket message accepted (ws `maxPayload`): the same bound as an HTTP body. */
  maxWsPayloadBytes: number;
  ws: WsLimits;
}

export interface SecurityOptions {
  /** Credential for requests that bring none (GSMS_AUTHORIZATION). */
  defaultAuthorization: string | undefined;
  /** Where the rate limiter counts when scaled out (Redis); in memory when unset. */
  sharedRateLimitStore?: SharedRateLimitStore;
}

export function createGatewaySecurity(security: SecurityConfig, options: SecurityOptions): GatewaySecurity {
  const operatorKeys = createOperatorKeys(security.operatorKeyHashes);
  const identify = (sources: CredentialSources) => identifyCaller(sources, operatorKeys, options.defaultAuthorization);
  return {
    identify,
    plugins: [
      ...(security.csrfPrevention ? [useCsrfPrevention()] : []),
      ...(security.introspection ? [] : [useNoIntrospection()]),
      useQueryLimits(security.limits),
      ...(security.requestClusterRate
        ? [useRequestClusterRateLimit(security.requestClusterRate, createRequestClusterLimiter(security.requestClusterRate, options.sharedRateLimitStore))]
        : []),
    ],
    graphiql: (graphiqlOptions) =>
      security.graphiql ? { ...graphiqlOptions, additionalHeaders: { ...graphiqlOptions.additionalHeaders, [CSRF_HEADER]: 'graphiql' } } : false,
    limitBody: (listener) => limitRequestBody(security.maxBodyBytes, listener),
    maxWsPayloadBytes: security.maxBodyBytes,
    ws: createWsLimits(security.ws, (ctx) =>
      identityKey(identify({ connectionParams: ctx.connectionParams, req: ctx.extra.request }), ctx.extra.request.socket.remoteAddress),
    ),
  };
}
