/**
 * The cluster state a scaled-out gateway shares through Redis: registry, pub/sub and poll leases, built on
 * one set of connections, plus the readiness check that reports Redis. `services.ts` uses this when
 * REDIS_URL is set and the in-memory equivalents otherwise.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CredentialCipher } from '../../clusters/credential-cipher.js';
import type { PollLeases } from '../../clusters/poll-lease.js';
import type { ClusterPubSub } from '../../clusters/pubsub.js';
import { RedisPollLeases } from '../../clusters/redis-poll-lease.js';
import { createRedisClusterPubSub } from '../../clusters/redis-pubsub.js';
import { RedisClusterRegistry } from '../../clusters/redis-registry.js';
import type { RedisConfig } from '../config.js';
import type { ReadinessCheck } from '../metrics/readiness.js';
import { connectRedis } from './connections.js';

export interface RedisClusterState {
  registry: RedisClusterRegistry;
  pubsub: ClusterPubSub;
  leases: PollLeases;
  /** The command connection, for other shared state (e.g. rate-limit counters). */
  redis: Redis;
  /** This process's id in lease values and logs. */
  instanceId: string;
  readinessCheck: ReadinessCheck;
  /** Waits for the first connection, so an instance reports ready only when it can serve. */
  whenConnected(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function createRedisClusterState(
  config: RedisConfig,
  retention: { recordRetentionMs: number; watchTimeoutMs: number },
  logger: Logger,
): RedisClusterState {
  const { recordRetentionMs, watchTimeoutMs } = retention;
  const instanceId = randomUUID();
  const log = logger.child({ component: 'redis', instanceId });
  const connections = connectRedis({ url: config.url, commandTimeoutMs: config.commandTimeoutMs }, log);
  const registry = new RedisClusterRegistry({
    redis: connections.commands,
    keyPrefix: config.keyPrefix,
    cipher: new CredentialCipher(config.credentialKey),
    retentionMs: recordRetentionMs,
    watchTimeoutMs,
  });
  const pubsub = createRedisClusterPubSub({
    publishClient: connections.publisher,
    subscribeClient: connections.subscriber,
    keyPrefix: config.keyPrefix,
    registry,
    logger: log,
  });
  const leases = new RedisPollLeases({
    redis: connections.commands,
    keyPrefix: config.keyPrefix,
    owner: instanceId,
    leaseMs: config.pollLeaseMs,
    postedRetentionMs: recordRetentionMs,
  });
  return {
    registry,
    pubsub,
    leases,
    redis: connections.commands,
    instanceId,
    readinessCheck: { name: 'redis', check: () => connections.isReachable() },
    whenConnected: (timeoutMs) => connections.whenConnected(timeoutMs),
    close: () => connections.close(),
  };
}
