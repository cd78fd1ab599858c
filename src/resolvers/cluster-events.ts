/**
 * `clusterEvents`: every change to every session the caller may see, as it happens (for dashboards).
 * Unlike `clusterStatus` it sends no current state first and never ends: a dashboard loads the current
 * list with the `clusters` query, then applies these changes (the newer `updatedAt` wins).
 */
import { filter, pipe } from 'graphql-yoga';
import type { ClusterRecord } from '../clusters/cluster-record.js';
import { matchesFilter } from '../clusters/registry.js';
import { canSee, requireCaller } from './access.js';
import { titleIdArg } from './arguments.js';
import type { GatewayContext } from './context.js';

export function subscribeClusterEvents(context: GatewayContext, titleIdArgument: string | null): AsyncIterable<ClusterRecord> {
  requireCaller(context);
  const titleId = titleIdArgument === null ? undefined : titleIdArg(titleIdArgument);
  return pipe(
    context.services.pubsub.subscribe('cluster:changes'),
    // The same access check as every other field: each change is shown only to callers who may see it.
    filter((record: ClusterRecord) => matchesFilter(record, { titleId }) && canSee(context, record)),
  );
}
