/**
 * The webhooks' own Redis connections, on the topology the gateway runs on (Redis mode):
 * - `redis`: commands for the endpoint store, the delivery order and the outbox reader. Fail-fast like the
 *   gateway's command connection (connections.ts: a mutation gets an error while Redis is away, not a hang),
 *   but without its auto-pipelining: on a cluster that routes a command by the key ioredis' command table
 *   names, and for XGROUP and XINFO (which the outbox reader sends) the table names none, so they go by
 *   their first argument (`CREATE`, `CONSUMERS`) to a wrong master and fail with MOVED.
 * - `queueConnection`: BullMQ's, with `maxRetriesPerRequest: null` (its worker blocks and must wait for Redis
 *   rather than fail), which BullMQ duplicates for its blocking reads.
 */
import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import type { RedisTopology } from '../config.js';
import { failFastCluster, failFastSingle, retryStrategy, type RedisClient } from './connections.js';

export function webhookRedis(topology: RedisTopology, commandTimeoutMs: number): { redis: RedisClient; queueConnection: ConnectionOptions } {
  const blocking = { maxRetriesPerRequest: null, connectionName: 'gsms-webhook-queue' };
  let redis: RedisClient;
  let queueConnection: RedisClient;
  if (topology.kind === 'single') {
    redis = new Redis(topology.url, failFastSingle(commandTimeoutMs, 'gsms-webhooks'));
    queueConnection = new Redis(topology.url, { ...blocking, retryStrategy });
  } else {
    redis = new Cluster(topology.nodes, failFastCluster(commandTimeoutMs, 'gsms-webhooks'));
    queueConnection = new Cluster(topology.nodes, { clusterRetryStrategy: retryStrategy, redisOptions: blocking });
  }
  // Errors surface on the calls (and BullMQ reports its own); the connections reconnect by themselves.
  for (const client of [redis, queueConnection]) client.on('error', () => {});
  return { redis, queueConnection };
}
