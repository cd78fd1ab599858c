/**
 * Rate-limit counters in Redis, so one identity's allowance holds across every instance (decisions.md,
 * "Rate limits"): the library's RedisStore over the gateway's command connection. RedisStore speaks
 * node-redis-style callbacks (`set([key, value, 'EX', seconds], cb)`, `get(key, cb)`); this adapter gives
 * it those two calls on ioredis, under the deployment's key prefix, and turns an unreachable Redis into
 * RegistryUnavailableError (REGISTRY_UNAVAILABLE, 503) like the rest of the shared state.
 * The count is read then written, not atomic: instances racing on one identity may let a call or two
 * more through in a window, never fewer.
 */
import { RedisStore, type Store } from '@envelop/rate-limiter';
import type { Redis } from 'ioredis';
import { whileReachable } from '../../clusters/registry-unavailable.js';

type Callback<T> = (error: Error | null, value?: T) => void;

export function createRedisRateLimitStore(redis: Redis, keyPrefix: string): Store {
  const prefix = `${keyPrefix}ratelimit:`;
  return new RedisStore({
    set([key, value, , seconds]: string[], done: Callback<void>) {
      const ttl = Math.max(1, Number.isFinite(Number(seconds)) ? Number(seconds) : 1);
      whileReachable(() => redis.set(prefix + key, value!, 'EX', ttl)).then(() => done(null), done);
    },
    get(key: string, done: Callback<string | null>) {
      whileReachable(() => redis.get(prefix + key)).then((value) => done(null, value), done);
    },
  });
}
