/**
 * The two Redis topologies the scale-out suite runs on: one primary (the shared test Redis, see
 * test/support/redis.ts) and a private 3-master Redis Cluster (test/support/redis-cluster.ts), started
 * once per file. Each gives the gateway's environment for it, a client to inspect it with and a clean-up.
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisTopology } from '../../src/server/config.js';
import { spawnRedisCluster, type SpawnedRedisCluster } from '../support/redis-cluster.js';
import { deleteKeys, sharedRedis } from '../support/redis.js';

export type TopologyName = 'single' | 'cluster';
export const TOPOLOGIES: readonly TopologyName[] = ['single', 'cluster'];

export interface TestRedis {
  name: TopologyName;
  topology: RedisTopology;
  /** REDIS_URL or REDIS_CLUSTER_NODES, as a gateway process takes it. */
  env: Record<string, string>;
  /** The cluster's handle (restart a master, find a key's master), for the cluster topology. */
  cluster: SpawnedRedisCluster | undefined;
  /** A new client of the topology (a `Cluster` on the cluster); disconnect it when done. */
  client(): Redis | Cluster;
  /** Removes every key under the prefix (the shared single Redis; a private cluster goes whole). */
  deleteKeys(prefix: string): Promise<void>;
  dispose(): Promise<void>;
}

export async function startRedis(name: TopologyName): Promise<TestRedis> {
  if (name === 'single') {
    const redis = await sharedRedis();
    return {
      name,
      topology: { kind: 'single', url: redis.url },
      env: { REDIS_URL: redis.url },
      cluster: undefined,
      client: () => new Redis(redis.url),
      deleteKeys: (prefix) => deleteKeys(redis.url, prefix),
      dispose: () => redis.dispose(),
    };
  }
  const cluster = await spawnRedisCluster();
  const nodes = cluster.ports.map((port) => ({ host: '127.0.0.1', port }));
  return {
    name,
    topology: { kind: 'cluster', nodes },
    env: { REDIS_CLUSTER_NODES: cluster.nodes },
    cluster,
    client: () => new Cluster(nodes),
    // The cluster is this file's own and is removed with its data by dispose.
    deleteKeys: async () => {},
    dispose: () => cluster.dispose(),
  };
}
