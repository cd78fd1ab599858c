/**
 * `clusterStatus`: the session's current state at once, then every change, ending after a terminal state.
 * The first event comes from the registry; subscribing never calls upstream, only the poller does.
 */
import { Repeater } from 'graphql-yoga';
import { isTerminal, type ClusterRecord } from '../clusters/cluster-record.js';
import type { ClusterEvent } from '../clusters/pubsub.js';
import { sessionKeyArg } from './arguments.js';
import type { GatewayContext } from './context.js';
import { canSee, requireCaller } from './access.js';
import { gatewayError, notFound } from './errors.js';

export async function subscribeClusterStatus(context: GatewayContext, sessionIdArg: string): Promise<AsyncIterable<ClusterEvent>> {
  requireCaller(context);
  const sessionId = sessionKeyArg(sessionIdArg);
  const { pubsub, registry, poller } = context.services;

  // Listen before reading the registry, so a change landing in between is not missed. A Repeater starts
  // listening on its first next(), hence the early call.
  const changes = pubsub.subscribe('cluster:status', sessionId)[Symbol.asyncIterator]();
  const firstChange = changes.next();
  const record = await registry.get(sessionId);
  if (!record || !canSee(context, record)) {
    await changes.return?.();
    throw notFound(sessionId);
  }
  poller.watch(record);
  return followChanges(record, changes, firstChange);
}

/** Current state, then changes newer than it (by version), until a terminal state or the end of watching. */
function followChanges(
  current: ClusterRecord,
  changes: AsyncIterator<ClusterEvent>,
  firstChange: Promise<IteratorResult<ClusterEvent>>,
): AsyncIterable<ClusterEvent> {
  return new Repeater<ClusterEvent>(async (push, stop) => {
    let version = current.version;
    let next = firstChange;
    await push({ type: 'status', record: current });
    let settled = isTerminal(current.state);
    while (!settled) {
      const result = await Promise.race([next, stop.then(() => null)]);
      if (!result || result.done) break;
      const event = result.value;
      if (event.type === 'watch-ended') {
        await push(event);
        break;
      }
      if (event.record.version > version) {
        version = event.record.version;
        await push(event);
        settled = isTerminal(event.record.state);
      }
      next = changes.next();
    }
    stop();
    await changes.return?.();
  });
}

/** Turns a stream event into the field's value; the end of watching becomes a WATCH_TIMEOUT error. */
export function clusterStatusFromEvent(event: ClusterEvent): ClusterRecord {
  if (event.type === 'watch-ended') throw gatewayError(event.code, event.message);
  return event.record;
}
