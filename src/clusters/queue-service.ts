/**
 * The queue tracker and its announcer, built for one gateway: in Redis when the cluster state is shared
 * (one order per title for every instance), in memory otherwise. `services.ts` hands `onStateEvent` to the
 * registry's state events and `afterPoll` to the poller.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from './logger.js';
import type { ClusterPubSub } from './pubsub.js';
import { QueueAnnouncer } from './queue-announcer.js';
import { MemoryQueueTracker } from './queue-memory.js';
import { RedisQueueTracker } from './queue-redis.js';
import type { QueueTracker } from './queue-tracker.js';

export interface QueueService {
  tracker: QueueTracker;
  /** The registries' state-event listener. */
  onStateEvent: QueueAnnouncer['onStateEvent'];
  /** The poller's hook after each recorded poll of a session still queued. */
  afterPoll: QueueAnnouncer['afterPoll'];
}

export function createQueueService(options: {
  pubsub: ClusterPubSub;
  logger: Logger;
  /** The shared state's command connection and key prefix; absent: in memory. */
  redis?: { client: Redis | Cluster; keyPrefix: string };
}): QueueService {
  const tracker = options.redis
    ? new RedisQueueTracker({ redis: options.redis.client, keyPrefix: options.redis.keyPrefix, logger: options.logger })
    : new MemoryQueueTracker();
  const announcer = new QueueAnnouncer(tracker, options.pubsub);
  return { tracker, onStateEvent: announcer.onStateEvent, afterPoll: announcer.afterPoll };
}
