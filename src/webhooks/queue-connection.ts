/**
 * BullMQ's own connection, on the topology the gateway runs on. BullMQ's worker blocks on its connection and
 * needs `maxRetriesPerRequest: null` (wait for Redis rather than fail), the opposite of the command
 * connection's fail-fast settings, so it gets connections of its own rather than sharing those.
 */
import type { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';

export type QueueTopology = { kind: 'single'; url: string } | { kind: 'cluster'; nodes: { host: string; port: number }[] };

export function queueConnection(topology: QueueTopology): ConnectionOptions {
  if (topology.kind === 'single') return { url: topology.url, maxRetriesPerRequest: null, connectionName: 'gsms-webhooks' };
  return new Cluster(topology.nodes, { redisOptions: { maxRetriesPerRequest: null, connectionName: 'gsms-webhooks' } });
}
