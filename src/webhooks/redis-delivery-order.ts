/**
 * Keeps a session's deliveries to one endpoint in the order of the changes in Redis mode, as memory mode
 * does: per endpoint and session, a sorted set of the deliveries not yet finished, by event time. A
 * delivery whose set's head is another, still pending delivery waits (its BullMQ job is delayed, which is
 * not an attempt); a head that is no longer pending (finished, or gone with its endpoint) is dropped, so a
 * lost entry cannot hold the others back. Keys carry the `{wh}` tag and expire a week after their last use.
 */
import type { Cluster, Redis } from 'ioredis';
import type { DeliveryJob } from './delivery-attempt.js';
import { WEBHOOK_HASH_TAG } from './redis-webhook-store.js';
import type { WebhookStore } from './webhook-store.js';

const KEEP_MS = 7 * 24 * 3_600_000;

// KEYS: the session's order set. ARGV: event time (ms), delivery id, keep (ms).
const ADD = `
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

export class RedisDeliveryOrder {
  constructor(
    private readonly options: { redis: Redis | Cluster; keyPrefix: string; store: WebhookStore },
  ) {}

  #key(job: DeliveryJob): string {
    return `${this.options.keyPrefix}${WEBHOOK_HASH_TAG}:order:${job.endpointId}:${job.sessionId}`;
  }

  /** Records a delivery as waiting its turn (a second call for the same delivery changes nothing). */
  async add(job: DeliveryJob): Promise<void> {
    await this.options.redis.eval(ADD, 1, this.#key(job), Date.parse(job.at), job.deliveryId, KEEP_MS);
  }

  /**
   * True when every earlier delivery of this session to this endpoint has finished; otherwise when the
   * earliest pending one is next due (ms), the soonest this one's turn can come.
   */
  async turn(job: DeliveryJob): Promise<true | number> {
    const key = this.#key(job);
    for (;;) {
      const [head] = await this.options.redis.zrange(key, 0, 0);
      if (head === undefined || head === job.deliveryId) return true;
      const earlier = await this.options.store.getDelivery(job.endpointId, head);
      if (earlier?.state === 'PENDING') return earlier.nextAttemptAt ? Date.parse(earlier.nextAttemptAt) : Date.now();
      await this.options.redis.zrem(key, head);
    }
  }

  async finished(job: DeliveryJob): Promise<void> {
    await this.options.redis.zrem(this.#key(job), job.deliveryId);
  }
}
