/**
 * Pub/sub across instances: yoga's `createRedisEventTarget` behind the same `createClusterPubSub`, so the
 * poller and resolvers do not change. Two things the adapter leaves to us:
 *
 * - Redis SUBSCRIBE is asynchronous, and Redis keeps no backlog: a change published before our
 *   subscription is confirmed, or while the connection is down, is simply not delivered. So each
 *   `cluster:status` subscription re-reads the session's record from the registry once its subscription
 *   is confirmed, and again after every reconnect, and yields it as a status event. The subscriber drops
 *   what it has already seen by version, so the catch-up costs nothing when nothing was missed.
 * - The adapter does not handle failed commands (an unhandled rejection would end the process), and
 *   channels carry no deployment prefix. The client views below add both.
 */
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Repeater } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.js';
import { createClusterPubSub, type ClusterEvent, type ClusterPubSub } from './pubsub.js';
import type { ClusterRegistry } from './registry.js';

export interface RedisClusterPubSubOptions {
  /** Publishes only. */
  publishClient: Redis;
  /** Subscribes only (a subscribed Redis connection can do nothing else); keep its offline queue on, so
   * subscriptions made while Redis is away are sent when it is back. */
  subscribeClient: Redis;
  /** Prefix for channel names, so deployments sharing a Redis do not hear each other. */
  keyPrefix: string;
  registry: Pick<ClusterRegistry, 'get'>;
  logger: Logger;
  /** Pause between catch-up attempts while the registry is unreachable. */
  retryMs?: number;
}

/** Tries per publish: 250 ms, 500 ms, … apart, about 9 s in all. */
const PUBLISH_ATTEMPTS = 8;

/** The slice of ioredis the event target calls, with our prefix and error handling. */
function clientViews({ publishClient, subscribeClient, keyPrefix, logger }: RedisClusterPubSubOptions) {
  const publisher = {
    // Fire and forget for the caller, but retried for a few seconds: a subscriber whose own connection
    // stayed up would otherwise never hear of a change stored while only the publish connection was down.
    async publish(channel: string, message: string): Promise<number> {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await publishClient.publish(keyPrefix + channel, message);
        } catch (error) {
          if (attempt >= PUBLISH_ATTEMPTS) {
            logger.warn({ err: error, channel }, 'publish failed: Redis unreachable; subscribers catch up when they reconnect');
            return 0;
          }
          await sleep(250 * attempt);
        }
      }
    },
  };
  const subscriber = {
    on(event: 'message', listener: (channel: string, message: string) => void) {
      subscribeClient.on(event, (channel: string, message: string) => {
        if (!channel.startsWith(keyPrefix)) return;
        try {
          listener(channel.slice(keyPrefix.length), message);
        } catch (error) {
          logger.warn({ err: error, channel }, 'dropped an unreadable pub/sub message');
        }
      });
      return subscriber;
    },
    subscribe: (channel: string) =>
      subscribeClient.subscribe(keyPrefix + channel).catch((error: unknown) => logger.warn({ err: error, channel }, 'subscribe failed')),
    unsubscribe: (channel: string) =>
      subscribeClient.unsubscribe(keyPrefix + channel).catch((error: unknown) => logger.debug({ err: error, channel }, 'unsubscribe failed')),
  };
  // The adapter is typed for a whole ioredis client but only calls the methods above.
  return { publisher: publisher as unknown as Redis, subscriber: subscriber as unknown as Redis };
}

export function createRedisClusterPubSub(options: RedisClusterPubSubOptions): ClusterPubSub {
  const { publisher, subscriber } = clientViews(options);
  const pubsub = createClusterPubSub(createRedisEventTarget({ publishClient: publisher, subscribeClient: subscriber }));

  const subscribe = ((...args: Parameters<ClusterPubSub['subscribe']>) => {
    const [routingKey, sessionId] = args as [string, string | undefined];
    if (routingKey !== 'cluster:status' || sessionId === undefined) return pubsub.subscribe(...args);
    return statusWithCatchUp(pubsub, sessionId, options);
  }) as ClusterPubSub['subscribe'];

  return { publish: pubsub.publish, subscribe };
}

/** A session's status events, plus its stored record each time the subscription is (re)confirmed. */
function statusWithCatchUp(pubsub: ClusterPubSub, sessionId: string, options: RedisClusterPubSubOptions): Repeater<ClusterEvent> {
  const { subscribeClient, keyPrefix, registry, logger, retryMs = 250 } = options;
  const channel = `${keyPrefix}cluster:status:${sessionId}`;
  return new Repeater<ClusterEvent>(async (push, stop) => {
    let open = true;
    const events = pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator]();
    // The first next() makes the event target subscribe; the pump forwards everything it delivers.
    const pump = (async () => {
      for (let result = await events.next(); !result.done && open; result = await events.next()) await push(result.value);
    })();

    const catchUp = async () => {
      while (open) {
        try {
          // Resolves once Redis confirms the channel: every later publish reaches us, earlier ones are stored.
          await subscribeClient.subscribe(channel);
          const record = await registry.get(sessionId);
          if (record && open) await push({ type: 'status', record });
          return;
        } catch (error) {
          logger.debug({ err: error, sessionId }, 'catch-up read failed; retrying');
          await sleep(retryMs);
        }
      }
    };
    const onReady = () => void catchUp();
    subscribeClient.on('ready', onReady);
    void catchUp();

    await stop;
    open = false;
    subscribeClient.off('ready', onReady);
    await events.return?.();
    await pump.catch(() => {});
  });
}
