/**
 * The cluster state a scaled-out gateway shares through Redis: registry, pub/sub and the poll store, built
 * on one set of connections, plus the readiness check that reports Redis. `services.ts` uses this when
 * REDIS_URL is set and the in-memory equivalents otherwise.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CredentialCipher } from '../../clusters/credential-cipher.js';
import type { PollStore } from '../../clusters/poll-store.js';
import type { StateEventListener } from '../../clusters/state-events.js';
import type { ClusterPubSub } from '../../clusters/pubsub.js';
import { RedisPollStore } from '../../clusters/redis-poll-store.js';
import { createRedisClusterPubSub } from '../../clusters/redis-pubsub.js';
import { RedisClusterRegistry } from '../../clusters/redis-registry.js';
import type { RedisConfig } from '../config.js';
import type { ReadinessCheck } from '../metrics/readiness.js';
import { connectRedis, type RedisClient } from './connections.js';

export interface RedisClusterState {
  registry: RedisClusterRegistry;
  pubsub: ClusterPubSub;
  pollStore: PollStore;
  /** The command connection, for other shared state (e.g. rate-limit counters). */
  redis: RedisClient;
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
  onStateEvent?: StateEventListener,
): RedisClusterState {
  const { recordRetentionMs, watchTimeoutMs } = retention;
  const instanceId = randomUUID();
  const log = logger.child({ component: 'redis', instanceId });
  const connections = connectRedis({ topology: config.topology, commandTimeoutMs: config.commandTimeoutMs }, log);
  const cipher = new CredentialCipher(config.credentialKey);
  const registry = new RedisClusterRegistry({
    redis: connections.commands,
    keyPrefix: config.keyPrefix,
    cipher,
    instanceId,
    retentionMs: recordRetentionMs,
    watchTimeoutMs,
    outbox: true,
    onStateEvent,
  });
  const pubsub = createRedisClusterPubSub({
    publishClient: connections.publisher,
    subscribeClient: connections.subscriber,
    keyPrefix: config.keyPrefix,
    registry,
    logger: log,
  });
  const pollStore = new RedisPollStore({
    redis: connections.commands,
    registry,
    cipher,
    heartbeatTtlMs: config.pollLeaseMs,
    outbox: true,
  });
  return {
    registry,
    pubsub,
    pollStore,
    redis: connections.commands,
    instanceId,
    readinessCheck: { name: 'redis', check: () => connections.isReachable() },
    whenConnected: (timeoutMs) => connections.whenConnected(timeoutMs),
    close: () => connections.close(),
  };
}
