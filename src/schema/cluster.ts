/** The types that describe a requested cluster. */
import type { PortMapping } from '../gsms/wire.js';
import { standingOf, type ClusterStatusValue } from '../resolvers/queue-standing.js';
import { builder } from './builder.js';

export const FulfillmentStateRef = builder.enumType('FulfillmentState', {
  description: 'Where a cluster request stands at GSMS.',
  values: {
    FULFILLED: { description: 'A server is allocated: its connection info is on the ClusterStatus. Terminal.' },
    QUEUED: { description: 'No capacity yet: the request waits in a first-come, first-served queue. The gateway polls GSMS for you.' },
    ABORTED: { description: 'No capacity, and the request asked not to be queued (`abortIfQueued`). Terminal.' },
  } as const,
});

export const ClusterOrderRef = builder.enumType('ClusterOrder', {
  description: 'How `clusters` sorts its list.',
  values: {
    REQUESTED_AT: { description: 'Oldest request first.' },
    QUEUE_POSITION: { description: 'Queued sessions first, by title and then by `queuePosition` (next to be served first); then the others, oldest request first.' },
  } as const,
});

export const PortMappingRef = builder.objectRef<PortMapping>('PortMapping').implement({
  description: 'A named port of the allocated server.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The port\'s name, as the title\'s server configuration gives it (e.g. `game`).' }),
    internalPort: t.exposeInt('internalPort', { description: 'The port the game server listens on inside its host.' }),
    externalPort: t.exposeInt('externalPort', { description: 'The port players connect to on `hostName`.' }),
  }),
});

export const ClusterStatusRef = builder.objectRef<ClusterStatusValue>('ClusterStatus').implement({
  description: 'What the gateway knows about the cluster requested for one multiplayer session.',
  fields: (t) => ({
    sessionId: t.exposeString('sessionId', {
      description: 'The MPSD session path, in canonical spelling: `/serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}`.',
    }),
    titleId: t.exposeID('titleId', { description: 'The title the cluster was requested for, as a decimal number.' }),
    state: t.field({ type: FulfillmentStateRef, resolve: (r) => r.state, description: 'The latest fulfillment state.' }),
    pollIntervalMs: t.exposeInt('pollIntervalMs', { description: 'How often GSMS advises checking again, in milliseconds.' }),
    hostName: t.exposeString('hostName', { nullable: true, description: 'Address of the allocated server, once fulfilled.' }),
    region: t.exposeString('region', { nullable: true, description: 'Data-centre region of the allocated server, once fulfilled.' }),
    portMappings: t.field({
      type: [PortMappingRef],
      resolve: (r) => r.portMappings,
      description: 'Ports of the allocated server; empty until fulfilled.',
    }),
    secureContext: t.exposeString('secureContext', {
      nullable: true,
      description: 'Secure device address of the cluster (base64), once fulfilled and when GSMS sends one.',
    }),
    correlationId: t.exposeString('correlationId', {
      nullable: true,
      description: '`X-XblCorrelationId` of the GSMS answer this status came from, for tracing with Xbox Live support.',
    }),
    requestedAt: t.field({ type: 'DateTime', resolve: (r) => r.requestedAt, description: 'When the session was first requested.' }),
    updatedAt: t.field({ type: 'DateTime', resolve: (r) => r.updatedAt, description: 'When GSMS last answered for this session.' }),
    pollCount: t.exposeInt('pollCount', { description: 'Upstream posts made for this session: the request and every poll.' }),
    queuePosition: t.int({
      nullable: true,
      description:
        "Where the session stands in its title's queue: 1 is the next to be served. Counted among the sessions of the same title queued through this gateway deployment, in request order (the order GSMS serves them); sessions other callers queued at GSMS directly are not counted, since GSMS publishes no queue. Null unless QUEUED.",
      resolve: async (value, _args, context) => (await standingOf(context, value))?.queuePosition ?? null,
    }),
    estimatedWaitMs: t.int({
      nullable: true,
      description:
        "How long the session will likely stay queued from now, in milliseconds: its position times the mean time between fulfilments of this title's queued sessions, as this deployment observed them lately. An estimate from the gateway's view, not a promise from GSMS (which publishes none). Null unless QUEUED, and until the title has shown a few fulfilments.",
      resolve: async (value, _args, context) => (await standingOf(context, value))?.estimatedWaitMs ?? null,
    }),
  }),
});
