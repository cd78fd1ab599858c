import { requestCluster } from '../resolvers/request-cluster.js';
import { builder } from './builder.js';
import { FulfillmentStateRef } from './cluster.js';

builder.mutationField('requestCluster', (t) =>
  t.field({
    type: FulfillmentStateRef,
    description:
      'Asks GSMS for a cluster for a multiplayer session and returns its state. Asking again for the same session returns that request\'s state; it never allocates a second cluster. While the state is QUEUED the gateway polls GSMS for you: follow `clusterStatus` to see it change.',
    args: {
      titleId: t.arg.id({ required: true, description: 'The title, as an unsigned 32-bit number in decimal (e.g. `1234567890`) or `0x` hex.' }),
      sessionId: t.arg.string({
        required: true,
        description:
          'The MPSD session path: `/serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}` (`/session/` is accepted too).',
      }),
      abortIfQueued: t.arg.boolean({
        defaultValue: false,
        description: 'When true and no server is free now, do not queue: the answer is ABORTED.',
      }),
    },
    resolve: (_root, args, context) => requestCluster(context, { ...args, titleId: String(args.titleId) }),
  }),
);
