/**
 * A change of a session's state, as something that happened: what webhooks deliver and what the queue
 * tracker counts. One event per change of `state` (a first request counts as one), never per poll and never
 * for a change of connection info alone; plus `cluster.watch_timeout` when the gateway stops watching a
 * session that is still queued.
 *
 * The registries raise them where they store the change: in memory through `onStateEvent`, and in Redis
 * also into the bucket's outbox stream, in the same script that stores the change, so a crash between the
 * two cannot lose one.
 */
import { randomUUID } from 'node:crypto';
import type { FulfillmentState } from '../gsms/wire.js';
import type { ClusterRecord } from './cluster-record.js';

export type ClusterStateEventType = 'cluster.queued' | 'cluster.fulfilled' | 'cluster.aborted' | 'cluster.watch_timeout';

export interface ClusterStateEvent {
  /** Unique per event; webhook deliveries send it as `webhook-id` on every attempt. */
  id: string;
  type: ClusterStateEventType;
  /** When the change was stored (ISO 8601). */
  at: string;
  /** The session as it stands after the change. Carries no credential (records never do). */
  record: ClusterRecord;
}

/** Called on the instance that stored the change, after it is stored, in the order of the changes. */
export type StateEventListener = (event: ClusterStateEvent) => void;

const TYPE_OF_STATE: Record<FulfillmentState, ClusterStateEventType> = {
  QUEUED: 'cluster.queued',
  FULFILLED: 'cluster.fulfilled',
  ABORTED: 'cluster.aborted',
};

/** The event a stored change raises, or null when the state did not change. */
export function stateEventFor(previous: ClusterRecord | null, next: ClusterRecord): ClusterStateEvent | null {
  if (previous && previous.state === next.state) return null;
  return { id: `evt_${randomUUID()}`, type: TYPE_OF_STATE[next.state], at: next.updatedAt, record: next };
}

export function watchTimeoutEvent(record: ClusterRecord, now: Date): ClusterStateEvent {
  return { id: `evt_${randomUUID()}`, type: 'cluster.watch_timeout', at: now.toISOString(), record };
}

/** Where the registries raise state events and their listeners (webhooks, the queue tracker) hear them. */
export interface StateEventBus {
  emit: StateEventListener;
  listen(listener: StateEventListener): void;
}

export function createStateEventBus(): StateEventBus {
  const listeners: StateEventListener[] = [];
  return {
    emit(event) {
      for (const listener of listeners) listener(event);
    },
    listen(listener) {
      listeners.push(listener);
    },
  };
}
