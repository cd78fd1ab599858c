import { findCluster, listClusters } from '../resolvers/clusters.js';
import { builder } from './builder.js';
import { ClusterStatusRef, FulfillmentStateRef } from './cluster.js';

builder.queryFields((t) => ({
  cluster: t.field({
    type: ClusterStatusRef,
    nullable: true,
    description: 'The status of one session this gateway has requested; null with a NOT_FOUND error for any other session.',
    args: { sessionId: t.arg.string({ required: true, description: 'The MPSD session path, in any accepted spelling.' }) },
    resolve: (_root, args, context) => findCluster(context, args.sessionId),
  }),
  clusters: t.field({
    type: [ClusterStatusRef],
    description: 'Sessions this gateway has requested, oldest first, optionally filtered by title and state.',
    args: {
      titleId: t.arg.id({ description: 'Only this title (decimal or `0x` hex).' }),
      state: t.arg({ type: FulfillmentStateRef, description: 'Only sessions in this state.' }),
    },
    resolve: (_root, args, context) =>
      listClusters(context, { titleId: args.titleId == null ? null : String(args.titleId), state: args.state }),
  }),
}));
