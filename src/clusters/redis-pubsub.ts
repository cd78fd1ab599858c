/**
 * Pub/sub across instances on sharded pub/sub, on one primary and on a Redis Cluster alike, behind the
 * same `ClusterPubSub` the poller and resolvers use in memory. Channel names come from the keyspace:
 *
 * - `cluster:status` for session X travels on `keyspace.statusChannel(X)`, in the slot of X's keys, so on
 *   a cluster a change goes only through the master that also holds the session.
 * - `cluster:changes` (every change, for `clusterEvents` and dashboards) is split by bucket: a record is
 *   published on its session's bucket channel, and a listener listens to all 16 (subscribed once per
 *   process, however many listen), so no single master carries every change.
 *
 * (Why not `@graphql-yoga/redis-event-target`: it speaks plain PUBLISH/SUBSCRIBE, which a Redis Cluster
 * broadcasts to every node.) Redis keeps no backlog: a change published before a subscription is confirmed,
 * or while the connection is down, is not delivered. So each `cluster:status` subscription re-reads the
 * session's record once its channel is confirmed, and again after every reconnect, and yields it as a
 * status event; subscribers drop what they have already seen by version, so a catch-up costs nothing when
 * nothing was missed. Publishing never rejects and is retried for a few seconds; an unreadable message is
 * dropped with a log line.
 */
import { Repeater } from 'graphql-yoga';
import type { Cluster, Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterRecord } from './cluster-record.js';
import type { Logger } from './logger.js';
import type { ClusterEvent, ClusterPubSub } from './pubsub.js';
import { BUCKET_TAGS, bucketTagOf, RedisKeyspace } from './redis-keyspace.js';
import { publishSharded, ShardedChannels } from './redis-sharded-channels.js';
import type { ClusterRegistry } from './registry.js';

export interface RedisClusterPubSubOptions {
  /** Publishes only. */
  publishClient: Redis | Cluster;
  /** Subscribes only (a subscribed Redis connection can do nothing else); keep its offline queue on, so
   * subscriptions made while Redis is away are sent when it is back. On a cluster, `shardedSubscribers`. */
  subscribeClient: Redis | Cluster;
  /** Prefix of every channel (the deployment's key prefix), so deployments sharing a Redis do not hear each other. */
  keyPrefix: string;
  registry: Pick<ClusterRegistry, 'get'>;
  logger: Logger;
  /** Pause between catch-up attempts while the registry is unreachable, and the first subscribe retry. */
  retryMs?: number;
}

/** A message as it was published: a JSON object, or the message is dropped (with a log line). */
function parseObject<T>(payload: string): T {
  const value: unknown = JSON.parse(payload);
  if (typeof value !== 'object' || value === null) throw new Error('pub/sub message is not a JSON object');
  return value as T;
}

export function createRedisClusterPubSub(options: RedisClusterPubSubOptions): ClusterPubSub {
  const { publishClient, subscribeClient, keyPrefix, logger, retryMs = 250 } = options;
  const keyspace = new RedisKeyspace(keyPrefix);
  const channels = new ShardedChannels(subscribeClient, logger, retryMs);

  const publish = ((routingKey: string, ...args: unknown[]) => {
    if (routingKey === 'cluster:status') {
      const [sessionId, event] = args as [string, ClusterEvent];
      void publishSharded(publishClient, keyspace.statusChannel(sessionId), JSON.stringify(event), logger);
    } else if (routingKey === 'cluster:changes') {
      const [record] = args as [ClusterRecord];
      void publishSharded(publishClient, keyspace.changesChannel(bucketTagOf(record.sessionId)), JSON.stringify(record), logger);
    } else {
      logger.warn({ routingKey }, 'publish on an unknown topic ignored');
    }
  }) as ClusterPubSub['publish'];

  const subscribe = ((routingKey: string, sessionId?: string) => {
    if (routingKey === 'cluster:status' && sessionId !== undefined) return statusWithCatchUp(channels, keyspace.statusChannel(sessionId), sessionId, options.registry, logger, retryMs);
    if (routingKey === 'cluster:changes') return everyChange(channels, keyspace);
    throw new Error(`no such pub/sub topic: ${routingKey}${sessionId === undefined ? '' : ` (${sessionId})`}`);
  }) as ClusterPubSub['subscribe'];

  return { publish, subscribe };
}

/**
 * A session's status events, plus its stored record each time the channel is (re)confirmed. The listener is
 * attached when the first `next()` runs the executor, synchronously, as yoga's own pub/sub does.
 */
function statusWithCatchUp(
  channels: ShardedChannels,
  channel: string,
  sessionId: string,
  registry: Pick<ClusterRegistry, 'get'>,
  logger: Logger,
  retryMs: number,
): Repeater<ClusterEvent> {
  return new Repeater<ClusterEvent>(async (push, stop) => {
    let open = true;
    let reading = false;
    let readAgain = false;

    // One read at a time; a confirmation during a read asks for one more read after it.
    const catchUp = async () => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      try {
        do {
          readAgain = false;
          for (;;) {
            if (!open) return;
            try {
              const record = await registry.get(sessionId);
              if (record && open) void push({ type: 'status', record });
              break;
            } catch (error) {
              logger.debug({ err: error, sessionId }, 'catch-up read failed; retrying');
              await sleep(retryMs);
            }
          }
        } while (readAgain && open);
      } finally {
        reading = false;
      }
    };

    const unlisten = channels.listen(channel, {
      message: (payload) => void push(parseObject<ClusterEvent>(payload)),
      confirmed: () => void catchUp(),
    });
    await stop;
    open = false;
    unlisten();
  });
}

/** Every change of every session: the 16 bucket channels merged. */
function everyChange(channels: ShardedChannels, keyspace: RedisKeyspace): Repeater<ClusterRecord> {
  return new Repeater<ClusterRecord>(async (push, stop) => {
    const listener = { message: (payload: string) => void push(parseObject<ClusterRecord>(payload)) };
    const unlisten = BUCKET_TAGS.map((tag) => channels.listen(keyspace.changesChannel(tag), listener));
    await stop;
    for (const stopListening of unlisten) stopListening();
  });
}
