/** The types that describe a requested cluster. */
import type { ClusterRecord } from '../clusters/cluster-record.js';
import type { PortMapping } from '../gsms/wire.js';
import { builder } from './builder.js';

export const FulfillmentStateRef = builder.enumType('FulfillmentState', {
  description: 'Where a cluster request stands at GSMS.',
  values: {
    FULFILLED: { description: 'A server is allocated: its connection info is on the ClusterStatus. Terminal.' },
    QUEUED: { description: 'No capacity yet: the request waits in a first-come, first-served queue. The gateway polls GSMS for you.' },
    ABORTED: { description: 'No capacity, and the request asked not to be queued (`abortIfQueued`). Terminal.' },
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

export const ClusterStatusRef = builder.objectRef<ClusterRecord>('ClusterStatus').implement({
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
  }),
});
