/**
 * The record of every session this gateway has requested. An interface so that a Redis-backed registry
 * can replace the in-memory one without touching resolvers; the poller's side is poll-store.ts.
 */
import type { ClusterAnswer, FulfillmentState } from '../gsms/wire.js';
import { answerChanges, answerFields, type ClusterRecord } from './cluster-record.js';

export interface RecordRequestInput {
  sessionId: string;
  titleId: string;
  answer: ClusterAnswer;
  requester: string;
  /** The requester's `Authorization` value, kept only so the poller can ask again. Secret. */
  credential: string;
}

export interface RecordUpdate {
  record: ClusterRecord;
  /** Whether state or connection info changed: only then is the update published. */
  changed: boolean;
}

export interface ClusterFilter {
  titleId?: string;
  state?: FulfillmentState;
}

export type StateCounts = Record<FulfillmentState, number>;

export interface ClusterRegistry {
  get(sessionId: string): Promise<ClusterRecord | null>;
  list(filter: ClusterFilter): Promise<ClusterRecord[]>;
  /** Records a `requestCluster` answer: creates the record, or adds the requester and applies the answer. */
  recordRequest(input: RecordRequestInput): Promise<RecordUpdate>;
  /** Sessions remembered, by state: kept as changes happen, so a metrics scrape never reads every record. */
  countByState(): Promise<StateCounts>;
  close(): Promise<void>;
}

/** Applies an answer to a record, returning the new record (records are treated as immutable values). */
export function applyAnswer(record: ClusterRecord, answer: ClusterAnswer, now: Date): RecordUpdate {
  const changed = answerChanges(record, answer);
  // Spelled out rather than spread: it runs on every poll, and one literal of a fixed shape is much cheaper.
  return {
    changed,
    record: {
      sessionId: record.sessionId,
      titleId: record.titleId,
      state: answer.state,
      pollIntervalMs: answer.pollIntervalMs,
      hostName: answer.hostName,
      region: answer.region,
      portMappings: answer.portMappings,
      secureContext: answer.secureContext,
      correlationId: answer.correlationId,
      requestedAt: record.requestedAt,
      updatedAt: isoTimestamp(now.getTime()),
      watchStartedAt: record.watchStartedAt,
      requesters: record.requesters,
      pollCount: record.pollCount + 1,
      version: changed ? record.version + 1 : record.version,
    },
  };
}

/**
 * `new Date(ms).toISOString()`, with the part up to the seconds made once per second: it runs on every poll,
 * and the full conversion cost as much as the rest of applying an answer.
 */
let isoSecond = Number.NaN;
let isoPrefix = '';
export function isoTimestamp(ms: number): string {
  // A fraction of a millisecond is dropped by Date, not by the arithmetic below.
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const prefix = new Date(second * 1000).toISOString().slice(0, -4);
    // Years past 9999 are written with a sign and six digits: not worth a fast path.
    if (prefix.length !== 20) return new Date(ms).toISOString();
    isoSecond = second;
    isoPrefix = prefix;
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** The record a first request creates. */
export function newRecord(input: RecordRequestInput, now: Date): ClusterRecord {
  return {
    sessionId: input.sessionId,
    titleId: input.titleId,
    ...answerFields(input.answer),
    requestedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    watchStartedAt: now.toISOString(),
    requesters: [input.requester],
    pollCount: 1,
    version: 1,
  };
}

/**
 * Applies a `requestCluster` answer: a first request creates the record; a later one applies the answer,
 * restarts the watch clock and adds the requester (most recent last).
 */
export function applyRequest(existing: ClusterRecord | null, input: RecordRequestInput, now: Date): RecordUpdate {
  if (!existing) return { record: newRecord(input, now), changed: true };
  const update = applyAnswer(existing, input.answer, now);
  return {
    changed: update.changed,
    record: {
      ...update.record,
      titleId: input.titleId,
      watchStartedAt: update.record.updatedAt,
      requesters: withRequester(existing.requesters, input.requester),
    },
  };
}

/** Adds a requester to the end of the list (most recent last), without duplicates. */
export function withRequester(requesters: readonly string[], requester: string): string[] {
  return [...requesters.filter((r) => r !== requester), requester];
}

/**
 * When a record may be forgotten: `retentionMs` after its last update, but never while its session is still
 * queued and watched (its watch ends `watchTimeoutMs` after it was last requested). Without the second rule a
 * retention shorter than the poll interval or an outage would drop a watched session, leaving its
 * subscribers with no further event.
 */
export function recordExpiresAt(record: ClusterRecord, retentionMs: number, watchTimeoutMs: number): number {
  const afterUpdate = Date.parse(record.updatedAt) + retentionMs;
  if (record.state !== 'QUEUED') return afterUpdate;
  return Math.max(afterUpdate, Date.parse(record.watchStartedAt) + watchTimeoutMs + retentionMs);
}

export function matchesFilter(record: ClusterRecord, filter: ClusterFilter): boolean {
  return (!filter.titleId || record.titleId === filter.titleId) && (!filter.state || record.state === filter.state);
}
