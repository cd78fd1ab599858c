/**
 * Records and state events for the queue tracker's tests (test/queue): a session named `name` of one title,
 * as the registries would hand it over.
 */
import type { ClusterRecord } from '../../src/clusters/cluster-record.js';
import type { ClusterStateEvent, ClusterStateEventType } from '../../src/clusters/state-events.js';

export const QUEUE_TITLE = '1234567890';

/** A logger that drops everything. */
export const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Poll interval 0 by default, so no observation lag enters the estimate's arithmetic. */
export function queueRecord(name: string, state: ClusterRecord['state'], at: number, titleId = QUEUE_TITLE, pollIntervalMs = 0): ClusterRecord {
  const iso = new Date(at).toISOString();
  return {
    sessionId: `/s/${name}`,
    titleId,
    state,
    pollIntervalMs,
    hostName: null,
    region: null,
    portMappings: [],
    secureContext: null,
    correlationId: null,
    requestedAt: iso,
    updatedAt: iso,
    watchStartedAt: iso,
    requesters: ['u'],
    pollCount: 1,
    version: 1,
  };
}

const STATE_OF: Record<ClusterStateEventType, ClusterRecord['state']> = {
  'cluster.queued': 'QUEUED',
  'cluster.fulfilled': 'FULFILLED',
  'cluster.aborted': 'ABORTED',
  'cluster.watch_timeout': 'QUEUED',
};

/** The state event of `type` for session `name` at `at`, its record in the state that event leaves. */
export function queueEvent(type: ClusterStateEventType, name: string, at: number, titleId = QUEUE_TITLE, pollIntervalMs = 0): ClusterStateEvent {
  return { id: `evt_${name}_${type}_${at}`, type, at: new Date(at).toISOString(), record: queueRecord(name, STATE_OF[type], at, titleId, pollIntervalMs) };
}

/** Calls per command so far (`INFO commandstats`), e.g. `{ zrank: 12, evalsha: 3 }`. */
export async function commandCalls(redis: { info(section: string): Promise<string> }): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  return Object.fromEntries([...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map(([, command, count]) => [command!, Number(count)]));
}
