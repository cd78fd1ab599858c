import { findCluster, listClusters } from '../resolvers/clusters.js';
import { builder } from './builder.js';
import { ClusterOrderRef, ClusterStatusRef, FulfillmentStateRef } from './cluster.js';

builder.queryFields((t) => ({
  cluster: t.field({
    type: ClusterStatusRef,
    nullable: true,
    description:
      'The status of one session your identity requested (operators: any requested session); null with a NOT_FOUND error for any other session, including one only someone else requested.',
    args: { sessionId: t.arg.string({ required: true, description: 'The MPSD session path, in any accepted spelling.' }) },
    resolve: (_root, args, context) => findCluster(context, args.sessionId),
  }),
  clusters: t.field({
    type: [ClusterStatusRef],
    description: 'The requested sessions you may see (your identity\'s; operators: all), oldest first unless `orderBy` says otherwise, optionally filtered by title and state.',
    args: {
      titleId: t.arg.id({ description: 'Only this title (decimal or `0x` hex).' }),
      state: t.arg({ type: FulfillmentStateRef, description: 'Only sessions in this state.' }),
      orderBy: t.arg({ type: ClusterOrderRef, defaultValue: 'REQUESTED_AT', description: 'The order of the list.' }),
    },
    resolve: (_root, args, context) =>
      listClusters(context, { titleId: args.titleId == null ? null : String(args.titleId), state: args.state, orderBy: args.orderBy ?? 'REQUESTED_AT' }),
  }),
}));
