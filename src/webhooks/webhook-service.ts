/**
 * The webhooks room's front door: endpoints for the resolvers, and the fan-out of each state change to the
 * endpoints that want it. Memory mode hears of changes through the registry's `onStateEvent`; Redis mode reads
 * them from the outbox (outbox-consumer.ts) and ignores `onStateEvent`, which fires only on the instance that
 * stored the change and would deliver a second time.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { CredentialCipher } from '../clusters/credential-cipher.js';
import type { Logger } from '../clusters/logger.js';
import type { ClusterStateEvent, ClusterStateEventType } from '../clusters/state-events.js';
import { webhookUrlProblem } from './address-policy.js';
import { BullmqDeliveryQueue } from './bullmq-delivery-queue.js';
import type { DeliveryObserver } from './delivery-attempt.js';
import type { DeliveryQueue } from './delivery-queue.js';
import { MemoryDeliveryQueue } from './memory-delivery-queue.js';
import { MemoryWebhookStore } from './memory-webhook-store.js';
import { OutboxConsumer } from './outbox-consumer.js';
import { RedisDeliveryOrder } from './redis-delivery-order.js';
import { RedisWebhookStore } from './redis-webhook-store.js';
import { deliveryIdOf, endpointMatches, WEBHOOK_EVENT_TYPES, type WebhookDelivery, type WebhookEndpoint } from './webhook-model.js';
import { webhookPayload } from './webhook-payload.js';
import { createWebhookSender } from './webhook-sender.js';
import { newWebhookSecret } from './webhook-signing.js';
import type { WebhookStore } from './webhook-store.js';

export interface WebhookConfig {
  /** A 2xx must arrive within this (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Waits before each retry, ms (WEBHOOK_RETRY_SCHEDULE). */
  retrySchedule: number[];
  /** Lets endpoints point at loopback and private addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS; development, tests). */
  allowPrivateNetworks: boolean;
}

/** A request the caller must fix (the resolvers answer BAD_USER_INPUT). */
export class WebhookInputError extends Error {
  override readonly name = 'WebhookInputError';
}

export interface CreatedEndpoint {
  endpoint: WebhookEndpoint;
  /** Shown once, here; stored sealed in Redis mode. */
  secret: string;
}

export interface WebhookService {
  createEndpoint(input: { url: string; titleId: string | null; eventTypes: ClusterStateEventType[] | null }): Promise<CreatedEndpoint>;
  /** A new secret for the next deliveries; null when there is no such endpoint. */
  rotateSecret(endpointId: string): Promise<CreatedEndpoint | null>;
  deleteEndpoint(endpointId: string): Promise<boolean>;
  listEndpoints(): Promise<WebhookEndpoint[]>;
  listDeliveries(endpointId: string, last: number): Promise<WebhookDelivery[]>;
  /** Passed to the registries as `onStateEvent`. */
  onStateEvent(event: ClusterStateEvent): void;
  /** Deliveries waiting or in flight (`gsms_webhook_pending`). */
  pendingCount(): Promise<number>;
  close(): Promise<void>;
}

export interface RedisWebhookBackend {
  /** Commands for the endpoint store, the delivery order and the outbox (src/server/redis/webhook-connections.ts); closed with the service. */
  redis: Redis | Cluster;
  /** BullMQ's connection (maxRetriesPerRequest: null), or the options it connects with; closed with the service. */
  queueConnection: ConnectionOptions;
  keyPrefix: string;
  cipher: CredentialCipher;
  /** This instance's name as an outbox consumer and BullMQ worker. */
  instanceId: string;
}

export interface WebhookServiceOptions {
  config: WebhookConfig;
  logger: Logger;
  observer?: DeliveryObserver;
  /** Redis mode when given; memory mode otherwise. */
  redis?: RedisWebhookBackend;
}

export function createWebhookService(options: WebhookServiceOptions): WebhookService {
  const { config, logger, observer, redis } = options;
  const store: WebhookStore = redis ? new RedisWebhookStore(redis) : new MemoryWebhookStore();
  const sender = createWebhookSender({ timeoutMs: config.timeoutMs, allowPrivateNetworks: config.allowPrivateNetworks });
  const attemptDeps = { store, sender, retrySchedule: config.retrySchedule, logger, observer };
  const queue: DeliveryQueue = redis
    ? new BullmqDeliveryQueue({
        ...attemptDeps,
        connection: redis.queueConnection,
        keyPrefix: redis.keyPrefix,
        workerName: redis.instanceId,
        order: new RedisDeliveryOrder({ redis: redis.redis, keyPrefix: redis.keyPrefix, store }),
      })
    : new MemoryDeliveryQueue(attemptDeps);

  async function fanOut(event: ClusterStateEvent): Promise<void> {
    const endpoints = (await store.listEndpoints()).filter((endpoint) => endpointMatches(endpoint, event.type, event.record.titleId));
    if (endpoints.length === 0) return;
    const body = JSON.stringify(webhookPayload(event));
    const now = new Date().toISOString();
    for (const endpoint of endpoints) {
      const delivery: WebhookDelivery = {
        id: deliveryIdOf(event.id, endpoint.id),
        endpointId: endpoint.id,
        eventId: event.id,
        eventType: event.type,
        sessionId: event.record.sessionId,
        attempts: 0,
        lastStatus: null,
        state: 'PENDING',
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      };
      if (!(await store.addDelivery(delivery))) {
        // Seen before (an outbox entry read again): enqueue only if it never finished; the job id dedupes.
        const existing = await store.getDelivery(endpoint.id, delivery.id);
        if (existing?.state !== 'PENDING') continue;
      }
      await queue.enqueue({ deliveryId: delivery.id, endpointId: endpoint.id, eventId: event.id, sessionId: delivery.sessionId, at: event.at, body });
    }
  }

  const outbox = redis
    ? new OutboxConsumer({ redis: redis.redis, keyPrefix: redis.keyPrefix, consumer: redis.instanceId, handle: fanOut, logger })
    : undefined;
  outbox?.start();

  // Memory mode: one fan-out at a time, so deliveries are queued in the order the changes happened.
  let fanOuts: Promise<void> = Promise.resolve();

  return {
    async createEndpoint({ url, titleId, eventTypes }) {
      const problem = webhookUrlProblem(url, config.allowPrivateNetworks);
      if (problem) throw new WebhookInputError(`The webhook URL ${problem}.`);
      if (eventTypes && eventTypes.length === 0) throw new WebhookInputError('eventTypes must name at least one event type (omit it for all).');
      const endpoint: WebhookEndpoint = {
        id: `ep_${randomUUID()}`,
        url,
        titleId,
        eventTypes: eventTypes ? WEBHOOK_EVENT_TYPES.filter((type) => eventTypes.includes(type)) : [...WEBHOOK_EVENT_TYPES],
        enabled: true,
        createdAt: new Date().toISOString(),
      };
      const secret = newWebhookSecret();
      await store.createEndpoint(endpoint, secret);
      return { endpoint, secret };
    },
    async rotateSecret(endpointId) {
      const secret = newWebhookSecret();
      if (!(await store.setSecret(endpointId, secret))) return null;
      const endpoint = await store.getEndpoint(endpointId);
      return endpoint ? { endpoint, secret } : null;
    },
    deleteEndpoint: (endpointId) => store.deleteEndpoint(endpointId),
    listEndpoints: () => store.listEndpoints(),
    listDeliveries: (endpointId, last) => store.listDeliveries(endpointId, last),
    onStateEvent(event) {
      if (redis) return;
      fanOuts = fanOuts
        .then(() => fanOut(event))
        .catch((error: unknown) => {
          logger.error({ component: 'webhooks', eventId: event.id, err: { message: String(error) } }, 'webhook fan-out failed');
        });
    },
    pendingCount: () => queue.pendingCount(),
    async close() {
      await outbox?.stop();
      await fanOuts;
      await queue.close();
      await sender.close();
      await store.close();
      if (redis) await redis.redis.quit().catch(() => redis.redis.disconnect());
    },
  };
}
