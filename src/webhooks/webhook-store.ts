/**
 * Where endpoints, their secrets and the deliveries' records live: in memory (one process) or in Redis
 * (shared by every instance, secrets sealed). The delivery queue and the resolvers only see this interface.
 */
import type { ClusterStateEventType } from '../clusters/state-events.js';
import type { WebhookDelivery, WebhookEndpoint } from './webhook-model.js';

export interface WebhookStore {
  createEndpoint(endpoint: WebhookEndpoint, secret: string): Promise<void>;
  /** Replaces the secret; false when there is no such endpoint. */
  setSecret(endpointId: string, secret: string): Promise<boolean>;
  deleteEndpoint(endpointId: string): Promise<boolean>;
  getEndpoint(endpointId: string): Promise<WebhookEndpoint | null>;
  listEndpoints(): Promise<WebhookEndpoint[]>;
  /** Endpoints for a 410 Gone: kept, but no longer sent to. */
  disableEndpoint(endpointId: string): Promise<void>;
  /** The plaintext secret, or null when the endpoint is gone (or its sealed secret does not open). */
  secretOf(endpointId: string): Promise<string | null>;

  /** Records a new delivery; false when one with this id exists already (a redelivered event). */
  addDelivery(delivery: WebhookDelivery): Promise<boolean>;
  updateDelivery(delivery: WebhookDelivery): Promise<void>;
  getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null>;
  /** The endpoint's most recent deliveries, newest first. */
  listDeliveries(endpointId: string, last: number): Promise<WebhookDelivery[]>;
  close(): Promise<void>;
}

export type { ClusterStateEventType };
