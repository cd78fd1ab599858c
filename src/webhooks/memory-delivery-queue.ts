/**
 * Deliveries in this process (memory mode): each retry is a timer, so a restart drops what is pending, as it
 * drops the records themselves (README, Webhooks). Deliveries of one session to one endpoint run one after
 * another, so a receiver sees its changes in the order they happened even across retries.
 */
import { attemptDelivery, type DeliveryAttemptDeps, type DeliveryJob } from './delivery-attempt.js';
import type { DeliveryQueue } from './delivery-queue.js';

export class MemoryDeliveryQueue implements DeliveryQueue {
  readonly #chains = new Map<string, Promise<void>>();
  readonly #queued = new Set<string>();
  readonly #timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  #closed = false;

  constructor(private readonly deps: DeliveryAttemptDeps) {}

  async enqueue(job: DeliveryJob): Promise<void> {
    if (this.#closed || this.#queued.has(job.deliveryId)) return;
    this.#queued.add(job.deliveryId);
    const key = `${job.endpointId} ${job.sessionId}`;
    const chain = (this.#chains.get(key) ?? Promise.resolve())
      .then(() => this.#run(job))
      .catch((error: unknown) => {
        this.deps.logger.error({ component: 'webhooks', deliveryId: job.deliveryId, err: { message: String(error) } }, 'webhook delivery stopped');
      })
      .finally(() => {
        this.#queued.delete(job.deliveryId);
        if (this.#chains.get(key) === chain) this.#chains.delete(key);
      });
    this.#chains.set(key, chain);
  }

  async #run(job: DeliveryJob): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt += 1) {
      const outcome = await attemptDelivery(this.deps, job, attempt);
      if (outcome !== 'retry') return;
      await this.#wait(this.deps.retrySchedule[attempt - 1] ?? 0);
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.#timers.add(entry);
    });
  }

  async pendingCount(): Promise<number> {
    return this.#queued.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#timers) {
      clearTimeout(entry.timer);
      entry.resolve();
    }
    this.#timers.clear();
    await Promise.allSettled([...this.#chains.values()]);
  }
}
