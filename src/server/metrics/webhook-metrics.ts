/**
 * Webhook delivery metrics, registered on the gateway's own Prometheus registry:
 * - `gsms_webhook_deliveries_total{outcome}`: attempts by outcome (delivered, retry, failed, disabled);
 * - `gsms_webhook_delivery_duration_seconds`: from sending an attempt to its answer (or failure);
 * - `gsms_webhook_pending`: deliveries waiting or in flight, read when Prometheus scrapes (in Redis mode,
 *   the shared queue's count, so every instance reports the same figure).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryObserver } from '../../webhooks/delivery-attempt.js';

/** A receiver answers in tens to hundreds of ms; a slow one runs into WEBHOOK_TIMEOUT_MS (15 s). */
const DELIVERY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

export interface WebhookMetrics {
  /** Passed to the webhook service as its `observer`. */
  readonly observer: DeliveryObserver;
  /** Where the pending gauge reads its figure; set once the webhook service exists. */
  observePending(source: () => Promise<number>): void;
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry];
  let pendingSource: (() => Promise<number>) | undefined;
  const deliveries = new Counter({
    name: 'gsms_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome: delivered (2xx), retry (will be retried), failed (schedule exhausted), disabled (410 Gone).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'gsms_webhook_delivery_duration_seconds',
    help: 'Time from sending one webhook attempt until its answer (or its failure).',
    buckets: DELIVERY_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'gsms_webhook_pending',
    help: 'Webhook deliveries waiting for their next attempt or in flight.',
    registers,
    async collect() {
      if (!pendingSource) return;
      try {
        this.set(await pendingSource());
      } catch {
        // Redis away: keep the last figure rather than fail the scrape.
      }
    },
  });
  return {
    observer: {
      attempted(outcome, seconds) {
        deliveries.inc({ outcome });
        duration.observe(seconds);
      },
    },
    observePending(source) {
      pendingSource = source;
    },
  };
}
