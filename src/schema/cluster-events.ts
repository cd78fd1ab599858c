import { subscribeClusterEvents } from '../resolvers/cluster-events.js';
import { builder } from './builder.js';
import { ClusterStatusRef } from './cluster.js';

builder.subscriptionField('clusterEvents', (t) =>
  t.field({
    type: ClusterStatusRef,
    description:
      'Every change to any session you may see (operators: all sessions; players: their own), as it happens, until you unsubscribe. Sends no current state first: load that with the `clusters` query, and keep the newest of each session by `updatedAt`.',
    args: { titleId: t.arg.id({ description: 'Only sessions of this title (decimal or `0x` hex).' }) },
    subscribe: (_root, args, context) => subscribeClusterEvents(context, args.titleId == null ? null : String(args.titleId)),
    resolve: (record) => record,
  }),
);
