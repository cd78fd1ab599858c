import { clusterStatusFromEvent, subscribeClusterStatus } from '../resolvers/cluster-status.js';
import { builder } from './builder.js';
import { ClusterStatusRef } from './cluster.js';

builder.subscriptionField('clusterStatus', (t) =>
  t.field({
    type: ClusterStatusRef,
    description:
      'Follows one session your identity requested (operators: any): its current status at once, then every change, ending after FULFILLED or ABORTED. Ends with a WATCH_TIMEOUT error if the session stays queued past the gateway\'s watch time; a NOT_FOUND error for a session you may not see.',
    args: { sessionId: t.arg.string({ required: true, description: 'The MPSD session path, in any accepted spelling.' }) },
    subscribe: (_root, args, context) => subscribeClusterStatus(context, args.sessionId),
    resolve: (event) => clusterStatusFromEvent(event),
  }),
);
