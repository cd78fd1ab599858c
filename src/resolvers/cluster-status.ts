/**
 * `clusterStatus`: the session's current state at once, then every change, ending after a terminal state;
 * while queued, also each meaningful change of its queue position or estimated wait (queue-announcer.ts).
 * The first event comes from the registry; subscribing never calls upstream, only the poller does.
 */
import type { ClusterRecord } from '../clusters/cluster-record.js';
import type { ClusterEvent } from '../clusters/pubsub.js';
import { statusFanout } from '../clusters/status-fanout.js';
import { sessionKeyArg } from './arguments.js';
import type { GatewayContext } from './context.js';
import { canSee, requireCaller } from './access.js';
import { gatewayError, notFound } from './errors.js';
import { statusValueOf, type ClusterStatusValue } from './queue-standing.js';

export async function subscribeClusterStatus(context: GatewayContext, sessionIdArg: string): Promise<AsyncIterable<ClusterEvent>> {
  requireCaller(context);
  const sessionId = sessionKeyArg(sessionIdArg);
  const { pubsub, registry, poller } = context.services;

  // Listen before reading the registry, so a change landing in between is not missed. The session's
  // topic is listened to once for all its subscribers (status-fanout.ts: memory per subscription).
  const stream = statusFanout(pubsub).follow(sessionId);
  let record: ClusterRecord | null;
  try {
    record = await registry.get(sessionId);
  } catch (error) {
    await stream.return();
    throw error;
  }
  if (!record || !canSee(context, record)) {
    await stream.return();
    throw notFound(sessionId);
  }
  poller.watch(record);
  // Current state, then changes newer than it (by version), until a terminal state or the end of watching.
  stream.start(record);
  return stream;
}

/** Turns a stream event into the field's value; the end of watching becomes a WATCH_TIMEOUT error. */
export function clusterStatusFromEvent(event: ClusterEvent): ClusterStatusValue {
  if (event.type === 'watch-ended') throw gatewayError(event.code, event.message);
  return statusValueOf(event);
}
