/**
 * One attempt of one delivery, the same in memory and in Redis: look the endpoint up, sign and send, record
 * what happened, and tell the queue whether to retry. A 2xx is delivered; a 410 Gone disables the endpoint;
 * anything else (another status, a timeout, a refused address) is retried until the schedule runs out.
 */
import type { Logger } from '../clusters/logger.js';
import type { WebhookDelivery } from './webhook-model.js';
import type { WebhookSender } from './webhook-sender.js';
import type { WebhookStore } from './webhook-store.js';

/** What a queue holds for one delivery: enough to send it without the event. */
export interface DeliveryJob {
  deliveryId: string;
  endpointId: string;
  eventId: string;
  sessionId: string;
  /** When the change happened (the event's `at`): a session's deliveries go out in this order. */
  at: string;
  /** The signed body, fixed when the event was fanned out, so every retry sends the same bytes. */
  body: string;
}

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'disabled' | 'dropped';

export interface DeliveryObserver {
  attempted(outcome: Exclude<AttemptOutcome, 'dropped'>, seconds: number): void;
}

export interface DeliveryAttemptDeps {
  store: WebhookStore;
  sender: WebhookSender;
  /** Waits before each retry (ms); the number of retries is its length. */
  retrySchedule: readonly number[];
  logger: Logger;
  observer?: DeliveryObserver;
  now?: () => Date;
}

/**
 * @param attemptNumber 1 for the first attempt; the last allowed is `retrySchedule.length + 1`.
 */
export async function attemptDelivery(deps: DeliveryAttemptDeps, job: DeliveryJob, attemptNumber: number): Promise<AttemptOutcome> {
  const { store, sender, retrySchedule, logger, observer } = deps;
  const now = deps.now ?? (() => new Date());
  const [endpoint, delivery] = await Promise.all([store.getEndpoint(job.endpointId), store.getDelivery(job.endpointId, job.deliveryId)]);
  // The endpoint was deleted (its deliveries with it): nothing to send, nothing to record.
  if (!endpoint || !delivery) return 'dropped';
  if (delivery.state !== 'PENDING') return delivery.state === 'DELIVERED' ? 'delivered' : 'failed';
  const secret = await store.secretOf(endpoint.id);
  if (!endpoint.enabled || secret === null) {
    await store.updateDelivery({ ...delivery, state: 'FAILED', nextAttemptAt: null, updatedAt: now().toISOString() });
    return 'failed';
  }

  const started = performance.now();
  const result = await sender.send({ url: endpoint.url, secret, messageId: job.eventId, body: job.body });
  const seconds = (performance.now() - started) / 1000;
  const status = result.kind === 'answered' ? result.status : null;
  const lastAttempt = attemptNumber > retrySchedule.length;

  let outcome: Exclude<AttemptOutcome, 'dropped'>;
  if (status !== null && status >= 200 && status < 300) outcome = 'delivered';
  else if (status === 410) outcome = 'disabled';
  else outcome = lastAttempt ? 'failed' : 'retry';

  const at = now();
  const wait = retrySchedule[attemptNumber - 1] ?? 0;
  const next: WebhookDelivery = {
    ...delivery,
    attempts: delivery.attempts + 1,
    lastStatus: status,
    state: outcome === 'delivered' ? 'DELIVERED' : outcome === 'retry' ? 'PENDING' : 'FAILED',
    nextAttemptAt: outcome === 'retry' ? new Date(at.getTime() + wait).toISOString() : null,
    updatedAt: at.toISOString(),
  };
  if (outcome === 'disabled') await store.disableEndpoint(endpoint.id);
  await store.updateDelivery(next);
  observer?.attempted(outcome, seconds);
  // The endpoint id, never its URL (a URL can carry a receiver's own token in its query).
  const entry = {
    component: 'webhooks',
    endpointId: endpoint.id,
    deliveryId: job.deliveryId,
    eventId: job.eventId,
    attempt: attemptNumber,
    ...(status !== null ? { status } : { reason: result.kind === 'failed' ? result.reason : undefined }),
    outcome,
    ...(outcome === 'retry' ? { retryInMs: wait } : {}),
  };
  if (outcome === 'delivered') logger.info(entry, 'webhook delivered');
  else logger.warn(entry, outcome === 'retry' ? 'webhook attempt failed; will retry' : 'webhook delivery failed');
  return outcome;
}
