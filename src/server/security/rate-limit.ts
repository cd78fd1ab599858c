/**
 * Per-identity rate limit on `requestCluster` (rate-limiter-flexible): each Xbox Live identity gets `max`
 * calls per fixed window of `windowMs`, whoever else is calling. Every other field is free: reads come from
 * the gateway's registry, while `requestCluster` is what reaches GSMS.
 *
 * The count lives in memory (one instance) or in Redis when scaled out, so the allowance holds across every
 * instance (docs/decisions.md, "Rate limits"); in Redis one Lua script adds and reads it atomically, so racing
 * instances cannot let extra calls through. An operation is counted before it runs, all its aliased
 * `requestCluster` calls at once: over the allowance, none of them runs and nothing reaches GSMS.
 *
 * Why not @envelop/rate-limiter (used before): it walks every operation's document with a TypeInfo on
 * every execution, which cost about a tenth of a requestCluster's CPU, and its Redis store reads then writes.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RegistryUnavailableError } from '../../clusters/registry-unavailable.js';
import type { GatewayContext } from '../../resolvers/context.js';
import { countRootFieldCalls } from './root-field-calls.js';
import type { RateLimit } from './security-config.js';

export const RATE_LIMITED = 'RATE_LIMITED';

/**
 * Where counts are kept when scaled out: the gateway's Redis command client and key prefix. On a Redis
 * Cluster each identity's count is one key, and the limiter's script touches only that key, so it runs on
 * the master serving its slot (no CROSSSLOT); with that master away, its identities get REGISTRY_UNAVAILABLE.
 */
export interface SharedRateLimitStore {
  redis: Redis | Cluster;
  keyPrefix: string;
}

/** Whose allowance a call uses: the Xbox Live identity it would call GSMS with. */
function identify(context: GatewayContext): string {
  if (context.credential) return `player:${context.credential.userHash}`;
  // No credential: the resolver refuses the call anyway; these share one bucket so refusals stay cheap.
  return context.caller?.kind === 'operator' ? `operator:${context.caller.keyId}` : 'anonymous';
}

export function createRequestClusterLimiter(rate: RateLimit, shared?: SharedRateLimitStore): RateLimiterAbstract {
  const options = { points: rate.max, duration: rate.windowMs / 1000 };
  if (!shared) return new RateLimiterMemory({ ...options, keyPrefix: 'requestCluster' });
  // An unready connection fails at once (REGISTRY_UNAVAILABLE) instead of queueing the call.
  return new RateLimiterRedis({ ...options, storeClient: shared.redis, keyPrefix: `${shared.keyPrefix}ratelimit`, rejectIfRedisNotReady: true });
}

function rateLimitedError(rate: RateLimit, msBeforeNext: number): GraphQLError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new GraphQLError(`Too many requestCluster calls: at most ${rate.max} per ${rate.windowMs / 1000} s for one Xbox Live identity.`, {
    extensions: {
      code: RATE_LIMITED,
      retryAfterSeconds,
      http: { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) } },
    },
  });
}

export function useRequestClusterRateLimit(rate: RateLimit, limiter: RateLimiterAbstract): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const calls = countRootFieldCalls(args.document, args.operationName, args.variableValues, 'mutation', 'requestCluster');
      if (calls === 0) return;
      return limiter.consume(identify(args.contextValue as unknown as GatewayContext), calls).then(
        () => undefined,
        (refusal: unknown) => {
          // The limiter rejects with its result when the allowance is spent, and with an Error when its store fails.
          if (refusal instanceof RateLimiterRes) return setResultAndStopExecution({ errors: [rateLimitedError(rate, refusal.msBeforeNext)] });
          throw new RegistryUnavailableError(refusal);
        },
      );
    },
  };
}
