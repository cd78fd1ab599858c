/**
 * What the webhooks room stores and shows: endpoints (where to POST, which events, signed with which secret)
 * and deliveries (one event to one endpoint, with its attempts). Plain data, shared by the memory and Redis
 * stores and by the resolvers.
 */
import type { ClusterStateEventType } from '../clusters/state-events.js';

export const WEBHOOK_EVENT_TYPES: readonly ClusterStateEventType[] = [
  'cluster.queued',
  'cluster.fulfilled',
  'cluster.aborted',
  'cluster.watch_timeout',
];

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Only this title's sessions; null for every title. */
  titleId: string | null;
  eventTypes: ClusterStateEventType[];
  /** False once a receiver answered 410 Gone. */
  enabled: boolean;
  createdAt: string;
}

export type WebhookDeliveryState = 'PENDING' | 'DELIVERED' | 'FAILED';

export interface WebhookDelivery {
  /** `<eventId>.<endpointId>`: one per event and endpoint, so a redelivered event cannot duplicate it. */
  id: string;
  endpointId: string;
  /** Sent as `webhook-id` on every attempt. */
  eventId: string;
  eventType: ClusterStateEventType;
  sessionId: string;
  attempts: number;
  /** The last attempt's HTTP status; null when it got no answer (timeout, refused address, network). */
  lastStatus: number | null;
  state: WebhookDeliveryState;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function deliveryIdOf(eventId: string, endpointId: string): string {
  // BullMQ refuses ':' in job ids; '.' appears in neither part.
  return `${eventId}.${endpointId}`;
}

export function endpointMatches(endpoint: WebhookEndpoint, type: ClusterStateEventType, titleId: string): boolean {
  return endpoint.enabled && endpoint.eventTypes.includes(type) && (endpoint.titleId === null || endpoint.titleId === titleId);
}

/** How many deliveries each endpoint keeps for `webhookDeliveries` (the oldest go first). */
export const DELIVERIES_KEPT_PER_ENDPOINT = 200;
