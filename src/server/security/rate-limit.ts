/**
 * Per-identity rate limit on `requestCluster` (@envelop/rate-limiter): each Xbox Live identity gets
 * `max` calls per sliding `windowMs`, whoever else is calling. Every other field is free: reads come from
 * the gateway's registry, while `requestCluster` is what reaches GSMS.
 *
 * The counters live in a Store: in memory by default (one instance; see expiring-memory-store.ts), or in
 * Redis when scaled out (redis-rate-limit-store.ts), so the allowance holds across every instance
 * (decisions.md, "Rate limits"); a client would otherwise multiply it by the number of instances.
 */
import { useRateLimiter, type Store } from '@envelop/rate-limiter';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../../resolvers/context.js';
import { ExpiringMemoryStore } from './expiring-memory-store.js';
import type { RateLimit } from './security-config.js';

export const RATE_LIMITED = 'RATE_LIMITED';

/** Whose allowance a call uses: the Xbox Live identity it would call GSMS with. */
function identify(context: GatewayContext): string {
  if (context.credential) return `player:${context.credential.userHash}`;
  // No credential: the resolver refuses the call anyway; these share one bucket so refusals stay cheap.
  return context.caller?.kind === 'operator' ? `operator:${context.caller.keyId}` : 'anonymous';
}

export function useRequestClusterRateLimit(rate: RateLimit, store: Store = new ExpiringMemoryStore()): Plugin {
  const retryAfterSeconds = String(Math.ceil(rate.windowMs / 1000));
  return useRateLimiter({
    identifyFn: (context) => identify(context as GatewayContext),
    store,
    // Several aliased requestCluster calls in one operation: with an asynchronous store (Redis) every call
    // reads the count from before the operation, so the calls of the operation must also be counted
    // together; a synchronous store already sees each earlier call, and that cache would count it twice.
    enableBatchRequestCache: !(store instanceof ExpiringMemoryStore),
    configByField: [{ type: 'Mutation', field: 'requestCluster', max: rate.max, window: `${rate.windowMs}ms` }],
    // The library's own error has no code and a malformed Retry-After; this one says what happened and when to retry.
    transformError: () =>
      new GraphQLError(`Too many requestCluster calls: at most ${rate.max} per ${rate.windowMs / 1000} s for one Xbox Live identity.`, {
        extensions: {
          code: RATE_LIMITED,
          retryAfterSeconds: Number(retryAfterSeconds),
          http: { status: 429, headers: { 'Retry-After': retryAfterSeconds } },
        },
      }),
  }) as Plugin;
}
