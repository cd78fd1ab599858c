/**
 * Topics the poller publishes on and subscriptions listen to. yoga's `createPubSub` does the work; the
 * event target decides the reach: in memory for one process, Redis (see redis-pubsub) across instances.
 */
import { createPubSub, type PubSub, type PubSubEventTarget } from 'graphql-yoga';
import type { ClusterRecord } from './cluster-record.js';
import type { QueueStanding } from './queue-tracker.js';

/**
 * What a session's subscribers receive: a new state, or the end of watching it. A status event with a
 * `standing` is a queued session's new place in line (queue-announcer.ts): same record version, new standing.
 */
export type ClusterEvent =
  | { type: 'status'; record: ClusterRecord; standing?: QueueStanding }
  | { type: 'watch-ended'; code: 'WATCH_TIMEOUT'; message: string };

export type ClusterTopics = {
  /** Every change of one session, keyed by its canonical session path. */
  'cluster:status': [sessionId: string, event: ClusterEvent];
  /** Every change of every session (dashboards filter by title and access). */
  'cluster:changes': [record: ClusterRecord];
};

export type ClusterPubSub = PubSub<ClusterTopics>;
export type ClusterEventTarget = PubSubEventTarget<ClusterTopics>;

export function createClusterPubSub(eventTarget?: ClusterEventTarget): ClusterPubSub {
  return createPubSub<ClusterTopics>(eventTarget ? { eventTarget } : {});
}

/** Publishes a record change on both topics. */
export function publishChange(pubsub: ClusterPubSub, record: ClusterRecord): void {
  pubsub.publish('cluster:status', record.sessionId, { type: 'status', record });
  pubsub.publish('cluster:changes', record);
}
