/**
 * The Redis connections of a scaled-out gateway, on one primary (REDIS_URL: ioredis `Redis`) or a Redis
 * Cluster (REDIS_CLUSTER_NODES: ioredis `Cluster`): one client for commands (registry, leases, rate
 * limits), one to publish and one to subscribe (a subscribed connection can do nothing else). Both kinds
 * share ioredis' command methods, `defineCommand` and the sharded pub/sub commands, so callers take a
 * `RedisClient` and never ask which one they have.
 *
 * Failing fast matters more than queueing here: while Redis (or, on a cluster, the master serving a key's
 * slot) is away, a command is refused at once (`enableOfflineQueue: false`), one already sent fails when
 * the connection drops (`maxRetriesPerRequest: 0`) and one Redis does not answer fails after
 * `commandTimeoutMs`, so a GraphQL call gets `REGISTRY_UNAVAILABLE` instead of hanging. ioredis keeps
 * reconnecting in the background and resubscribes the subscriber's channels by itself; 'error' events are
 * logged once per outage, never thrown. The subscriber alone keeps its offline queue, so a subscription
 * made during an outage is sent on reconnect.
 *
 * On a cluster, each master's connection reconnects by itself (`clusterNodeRetryStrategy`) rather than
 * being dropped and found again through a MOVED reply: a restarted master comes back within a second, and
 * meanwhile commands for its slots are refused locally (its connection is not ready) while the other
 * masters' slots are served as usual. The subscriber uses ioredis' sharded subscribers
 * (`shardedSubscribers`): one connection per master, each shard channel sent to the master serving its
 * slot, and a subscriber group that is rebuilt and resubscribed when a master's connection ends.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../../clusters/logger.js';
import type { RedisTopology } from '../config.js';

/** What every user of the connections calls: the command surface `Redis` and `Cluster` share. */
export type RedisClient = Redis | Cluster;

export interface RedisConnections {
  commands: RedisClient;
  publisher: RedisClient;
  subscriber: RedisClient;
  /** Resolves true once the command connection is ready, false if it is not within `timeoutMs`. */
  whenConnected(timeoutMs: number): Promise<boolean>;
  /**
   * Whether Redis can serve now: the readiness check. One primary: it answers PING. A cluster: a master
   * answers and reports `cluster_state:ok` (the state every master shares; with
   * `cluster-require-full-coverage no` it stays ok while one shard is down, and the other shards serve).
   */
  isReachable(): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisConnectionOptions {
  topology: RedisTopology;
  /** Longest wait for one command's answer. */
  commandTimeoutMs?: number;
}

/** Reconnect quickly at first, then every second: an outage costs at most a second after Redis is back. */
export const retryStrategy = (attempt: number) => Math.min(50 * attempt, 1_000);

type Role = 'commands' | 'publish' | 'subscribe';

/** A fail-fast connection to one primary (see the module comment). */
export function failFastSingle(commandTimeoutMs: number, connectionName: string): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    retryStrategy,
    connectionName,
  };
}

/** A fail-fast connection to a Redis Cluster (see the module comment). */
export function failFastCluster(commandTimeoutMs: number, connectionName: string): ClusterOptions {
  return {
    // Refused at once while the cluster (or the key's master) is not ready, instead of waiting in a queue,
    // and not retried against other nodes when the master's connection is down (`retryDelayOnFailover: 0`:
    // by default ioredis tries again every 100 ms for 16 rounds, a second and more per command).
    enableOfflineQueue: false,
    retryDelayOnFailover: 0,
    clusterRetryStrategy: retryStrategy,
    clusterNodeRetryStrategy: retryStrategy,
    // A failover's MOVED is followed at once; the slot map is also refreshed every few seconds, which is
    // what finds a promoted replica while the old master's connection only refuses.
    slotsRefreshInterval: 2_000,
    slotsRefreshTimeout: commandTimeoutMs,
    redisOptions: { maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs, connectTimeout: commandTimeoutMs, connectionName },
  };
}

function connectSingle(url: string, commandTimeoutMs: number): Record<Role, Redis> {
  return {
    // Auto-pipelining: the commands of one tick (many poll loops' timers fire in the same tick) travel as one
    // write and are read by Redis in one go, which cuts Redis's CPU per command several times over.
    commands: new Redis(url, { ...failFastSingle(commandTimeoutMs, 'gsms-commands'), enableAutoPipelining: true }),
    publish: new Redis(url, failFastSingle(commandTimeoutMs, 'gsms-publish')),
    subscribe: new Redis(url, { connectTimeout: commandTimeoutMs, maxRetriesPerRequest: null, retryStrategy, connectionName: 'gsms-subscribe' }),
  };
}

function connectCluster(nodes: { host: string; port: number }[], commandTimeoutMs: number): Record<Role, Cluster> {
  const failFast = (connectionName: string) => failFastCluster(commandTimeoutMs, connectionName);
  return {
    commands: new Cluster(nodes, { ...failFast('gsms-commands'), enableAutoPipelining: true }),
    publish: new Cluster(nodes, failFast('gsms-publish')),
    subscribe: new Cluster(nodes, {
      clusterRetryStrategy: retryStrategy,
      clusterNodeRetryStrategy: retryStrategy,
      slotsRefreshInterval: 2_000,
      slotsRefreshTimeout: commandTimeoutMs,
      shardedSubscribers: true,
      redisOptions: { connectTimeout: commandTimeoutMs, maxRetriesPerRequest: null, connectionName: 'gsms-subscribe' },
    }),
  };
}

/**
 * Connects every master as soon as the slot map names it. ioredis connects a master's connection on its
 * first command, and with the offline queue off a second command sent while that connection is still
 * connecting is refused: connecting ahead keeps a burst of first commands from failing.
 */
function connectMastersAhead(cluster: Cluster): void {
  const connectAll = () => {
    // Not before the cluster is ready: its own ready check goes to a node, and must find it idle, not connecting.
    if (cluster.status !== 'ready') return;
    for (const node of cluster.nodes('master')) if (node.status === 'wait') node.connect().catch(() => {});
  };
  cluster.on('ready', connectAll);
  cluster.on('refresh', connectAll);
}

/** Resolves true once the cluster and each of its masters is ready, false after `timeoutMs`. */
async function clusterConnected(cluster: Cluster, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const ready = (emitter: Cluster | Redis) =>
    emitter.status === 'ready' ? Promise.resolve(true) : once(emitter, 'ready', deadline - Date.now());
  if (!(await ready(cluster))) return false;
  const masters = cluster.nodes('master');
  return masters.length > 0 && (await Promise.all(masters.map(ready))).every(Boolean);
}

/** Resolves true on the emitter's next `event`, false after `ms`. */
function once(emitter: Cluster | Redis, event: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), Math.max(0, ms));
    const onEvent = () => done(true);
    function done(ok: boolean) {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      resolve(ok);
    }
    emitter.on(event, onEvent);
  });
}

/**
 * One warning per outage and one line when it ends. A cluster's masters fail and come back one by one
 * ('node error' from the command connections, 'nodeError' from the sharded subscribers), so per master.
 * The start of a reconnect counts as well as an error: a server back within the first retry's 50 ms
 * never refuses a connection, and its outage must still be told.
 */
function logOutages(role: Role, client: RedisClient, logger: Logger): void {
  let down = false;
  const lost = (error?: Error) => {
    // ioredis reports every failed reconnect; one line per outage is enough.
    if (!down) logger.warn({ role, err: error && { message: error.message } }, 'Redis connection lost; reconnecting');
    down = true;
  };
  client.on('error', lost);
  client.on('reconnecting', () => lost());
  client.on('ready', () => {
    if (down) logger.info({ role }, 'Redis connection restored');
    down = false;
  });
  if (!(client instanceof Cluster)) return;
  const nodesDown = new Set<string>();
  const nodeLost = (node: string, error?: Error) => {
    if (!nodesDown.has(node)) logger.warn({ role, node, err: error && { message: error.message } }, 'Redis Cluster node lost; reconnecting');
    nodesDown.add(node);
  };
  const onNodeError = (error: Error, node: string) => nodeLost(node, error);
  client.on('node error', onNodeError);
  client.on('nodeError', onNodeError);
  client.on('+node', (redis: Redis) => {
    const node = `${redis.options.host}:${redis.options.port}`;
    redis.on('reconnecting', () => nodeLost(node));
    redis.on('ready', () => {
      if (nodesDown.delete(node)) logger.info({ role, node }, 'Redis connection restored');
    });
  });
}

/** Resolves with the value, or rejects after `ms`: a readiness answer must not wait on a hung node. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function clusterServes(cluster: Cluster, timeoutMs: number): Promise<boolean> {
  const masters = cluster.nodes('master');
  if (masters.length === 0) return false;
  // Any master that answers knows the cluster's state; asking all at once keeps a down one from delaying it.
  const states = await Promise.allSettled(
    masters.map((node) => (node.status === 'ready' ? within(node.cluster('INFO') as Promise<string>, timeoutMs) : Promise.reject(new Error(node.status)))),
  );
  return states.some((state) => state.status === 'fulfilled' && /cluster_state:ok/.test(state.value));
}

export function connectRedis({ topology, commandTimeoutMs = 2_000 }: RedisConnectionOptions, logger: Logger): RedisConnections {
  const clients: Record<Role, RedisClient> =
    topology.kind === 'single' ? connectSingle(topology.url, commandTimeoutMs) : connectCluster(topology.nodes, commandTimeoutMs);
  const { commands, publish: publisher, subscribe: subscriber } = clients;
  // Every live clusterStatus subscription listens for the subscriber's reconnects.
  subscriber.setMaxListeners(0);

  for (const [role, client] of Object.entries(clients) as [Role, RedisClient][]) {
    logOutages(role, client, logger);
    if (client instanceof Cluster && role !== 'subscribe') connectMastersAhead(client);
  }

  return {
    commands,
    publisher,
    subscriber,
    whenConnected(timeoutMs) {
      if (commands instanceof Cluster) return clusterConnected(commands, timeoutMs);
      return commands.status === 'ready' ? Promise.resolve(true) : once(commands, 'ready', timeoutMs);
    },
    async isReachable() {
      try {
        if (commands instanceof Cluster) return await clusterServes(commands, commandTimeoutMs);
        return (await commands.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      // quit() waits for replies to commands already sent; disconnect() for a connection that is down.
      await Promise.all(
        [commands, publisher, subscriber].map((client) =>
          client.status === 'ready' ? client.quit().then(() => undefined, () => client.disconnect()) : client.disconnect(),
        ),
      );
    },
  };
}
