/**
 * Deliveries in Redis through BullMQ (Redis mode): a delivery is a job whose id is the delivery's id, so a
 * redelivered outbox entry cannot add it twice; retries wait as BullMQ delayed jobs on WEBHOOK_RETRY_SCHEDULE
 * (a custom backoff), and any instance's worker runs whichever is due. A worker killed mid-attempt loses its
 * job lock, and BullMQ's stalled-job check hands the job to another worker, which sends it again with the
 * same `webhook-id`. The queue's keys carry the `{wh}` hash tag, so they share one slot on a Redis Cluster.
 *
 * Ordering: a session's deliveries to one endpoint go out one after another, in the order of the changes,
 * retries included (redis-delivery-order.ts): a job whose turn has not come is delayed, which costs no attempt.
 */
import { DelayedError, Queue, Worker, type ConnectionOptions } from 'bullmq';
import { attemptDelivery, type DeliveryAttemptDeps, type DeliveryJob } from './delivery-attempt.js';
import type { DeliveryQueue } from './delivery-queue.js';
import type { RedisDeliveryOrder } from './redis-delivery-order.js';
import { WEBHOOK_HASH_TAG } from './redis-webhook-store.js';

const QUEUE_NAME = 'webhook-deliveries';
const BACKOFF_TYPE = 'webhook-schedule';
/** Deliveries in flight at once per instance: each is one HTTP call waiting on a receiver. */
const CONCURRENCY = 16;
/**
 * A job's lock, renewed every half of it while its worker lives: after a kill -9 another worker takes the job
 * within about lockDuration + stalledInterval (15 s), not BullMQ's default minute.
 */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;
/** Finished jobs are kept a day, long after any outbox redelivery could try to add them again. */
const KEEP_FINISHED = { age: 86_400, count: 100_000 };

export interface BullmqDeliveryQueueOptions extends DeliveryAttemptDeps {
  /** A connection for BullMQ alone (maxRetriesPerRequest: null), or options BullMQ connects with. */
  connection: ConnectionOptions;
  keyPrefix: string;
  /** Shown in BullMQ as the worker's name (which instance ran a job). */
  workerName: string;
  order: RedisDeliveryOrder;
}

/** How long a delivery waiting for an earlier one of its session waits before it looks again. */
const TURN_WAIT_MS = 1_000;

/** Longest a stop waits for BullMQ to close cleanly. */
const CLOSE_WAIT_MS = 3_000;

export class BullmqDeliveryQueue implements DeliveryQueue {
  readonly #queue: Queue<DeliveryJob>;
  readonly #worker: Worker<DeliveryJob>;

  constructor(private readonly options: BullmqDeliveryQueueOptions) {
    const prefix = `${options.keyPrefix}${WEBHOOK_HASH_TAG}`;
    const schedule = options.retrySchedule;
    this.#queue = new Queue<DeliveryJob>(QUEUE_NAME, {
      connection: options.connection,
      prefix,
      defaultJobOptions: {
        attempts: schedule.length + 1,
        backoff: { type: BACKOFF_TYPE },
        removeOnComplete: KEEP_FINISHED,
        removeOnFail: KEEP_FINISHED,
      },
    });
    this.#worker = new Worker<DeliveryJob>(
      QUEUE_NAME,
      async (job, token) => {
        const turn = await options.order.turn(job.data);
        if (turn !== true) {
          // An earlier change of this session is still being delivered: look again once it is next due (and
          // at least a moment from now), no attempt spent.
          await job.moveToDelayed(Math.max(Date.now() + TURN_WAIT_MS, turn + TURN_WAIT_MS), token);
          throw new DelayedError();
        }
        // attemptsMade counts attempts that ended in a retry; a stalled job's re-run keeps its number.
        const outcome = await attemptDelivery(options, job.data, job.attemptsMade + 1);
        if (outcome === 'retry') throw new Error('webhook attempt failed; retry scheduled');
        await options.order.finished(job.data);
      },
      {
        connection: options.connection,
        prefix,
        name: options.workerName,
        concurrency: CONCURRENCY,
        lockDuration: LOCK_MS,
        stalledInterval: STALLED_CHECK_MS,
        // A job whose worker keeps dying is retried, not dropped, for as long as the schedule would have run.
        maxStalledCount: 50,
        settings: { backoffStrategy: (attemptsMade) => schedule[attemptsMade - 1] ?? schedule.at(-1) ?? 0 },
      },
    );
    // Connection trouble is reported here; the connection keeps reconnecting on its own.
    const onError = (error: Error) => options.logger.warn({ component: 'webhooks', err: { message: error.message } }, 'webhook queue error');
    this.#queue.on('error', onError);
    this.#worker.on('error', onError);
    // A job that threw on its last allowed attempt (Redis away mid-attempt, say) is failed by BullMQ; record
    // it FAILED too, so it neither reads PENDING forever nor holds back its session's later deliveries.
    this.#worker.on('failed', (job) => {
      if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
      void this.#markFailed(job.data).catch(onError);
    });
  }

  async enqueue(job: DeliveryJob): Promise<void> {
    await this.options.order.add(job);
    await this.#queue.add('deliver', job, { jobId: job.deliveryId });
  }

  async #markFailed(job: DeliveryJob): Promise<void> {
    const delivery = await this.options.store.getDelivery(job.endpointId, job.deliveryId);
    if (delivery?.state === 'PENDING') {
      await this.options.store.updateDelivery({ ...delivery, state: 'FAILED', nextAttemptAt: null, updatedAt: new Date().toISOString() });
    }
    await this.options.order.finished(job);
  }

  async pendingCount(): Promise<number> {
    // BullMQ waits for its connection without bound: with Redis away a metrics scrape would hang, not fail.
    const given = this.options.connection as { status?: string };
    if (given.status !== undefined && given.status !== 'ready') throw new Error('webhook queue: Redis is not connected');
    return this.#queue.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized');
  }

  async close(): Promise<void> {
    // Bounded: with Redis away BullMQ's close waits for a connection that may never come back.
    const closed = (async () => {
      await this.#worker.close();
      await this.#queue.close();
    })().catch(() => {});
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    // BullMQ closes the connections it made, not one it was given.
    const given = this.options.connection as { status?: string; quit?: () => Promise<unknown>; disconnect?: () => void };
    if (given.status === 'ready' && typeof given.quit === 'function') await given.quit().catch(() => given.disconnect?.());
    else given.disconnect?.();
  }
}
