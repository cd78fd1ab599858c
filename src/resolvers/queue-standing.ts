/**
 * `queuePosition` and `estimatedWaitMs` of a ClusterStatus: from the status event that carried them (the
 * poll path's standing events), else looked up in the queue tracker once per record and shared by both fields.
 */
import type { ClusterRecord } from '../clusters/cluster-record.js';
import type { ClusterEvent } from '../clusters/pubsub.js';
import type { QueueStanding } from '../clusters/queue-tracker.js';
import type { GatewayContext } from './context.js';

/** What a ClusterStatus resolves from: a record, with its standing when an event brought one. */
export type ClusterStatusValue = ClusterRecord & { standing?: QueueStanding | null };

/**
 * Lookups per operation (its context) and record: both fields of a record, and the `clusters` sort, share one.
 * Never across operations: the same record object can stand elsewhere a moment later (others were served).
 */
const lookups = new WeakMap<GatewayContext, WeakMap<ClusterRecord, Promise<QueueStanding | null>>>();

export function standingOf(context: GatewayContext, value: ClusterStatusValue): Promise<QueueStanding | null> | null {
  if (value.state !== 'QUEUED') return null;
  if (value.standing !== undefined) return Promise.resolve(value.standing);
  const tracker = context.services.queue;
  if (!tracker) return null;
  let mine = lookups.get(context);
  if (!mine) lookups.set(context, (mine = new WeakMap()));
  let standing = mine.get(value);
  // A lookup that fails leaves the fields null: where a session stands is an extra, never worth an error.
  if (!standing) mine.set(value, (standing = tracker.standing(value).catch(() => null)));
  return standing;
}

/** Looks up the standings of many records at once (the `clusters` sort), so the fields reuse them. */
export async function standingsOf(context: GatewayContext, records: readonly ClusterRecord[]): Promise<Map<ClusterRecord, QueueStanding | null>> {
  const entries = await Promise.all(records.map(async (record) => [record, await standingOf(context, record)] as const));
  return new Map(entries);
}

const withStandings = new WeakMap<ClusterEvent, ClusterStatusValue>();

/** A status event's value: its record, plus the standing it carries (one object per event, shared by its subscribers). */
export function statusValueOf(event: ClusterEvent & { type: 'status' }): ClusterStatusValue {
  if (!event.standing) return event.record;
  let value = withStandings.get(event);
  if (!value) withStandings.set(event, (value = { ...event.record, standing: event.standing }));
  return value;
}
