/** Webhook endpoints and their deliveries (operators only): see README "Webhooks". */
import type { WebhookDelivery, WebhookEndpoint } from '../webhooks/webhook-model.js';
import type { CreatedEndpoint } from '../webhooks/webhook-service.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  rotateWebhookSecret,
} from '../resolvers/webhooks.js';
import { builder } from './builder.js';

const WebhookEventTypeRef = builder.enumType('WebhookEventType', {
  description: 'A change of a session\'s state that webhooks deliver; the payload\'s `type` is the dotted name.',
  values: {
    CLUSTER_QUEUED: { value: 'cluster.queued', description: '`cluster.queued`: the session was requested and waits in the queue.' },
    CLUSTER_FULFILLED: { value: 'cluster.fulfilled', description: '`cluster.fulfilled`: a server is allocated; the payload carries its connection info.' },
    CLUSTER_ABORTED: { value: 'cluster.aborted', description: '`cluster.aborted`: no capacity, and the request asked not to be queued.' },
    CLUSTER_WATCH_TIMEOUT: {
      value: 'cluster.watch_timeout',
      description: '`cluster.watch_timeout`: the gateway stopped watching a session still queued after its watch time.',
    },
  } as const,
});

const WebhookDeliveryStateRef = builder.enumType('WebhookDeliveryState', {
  description: 'Where one delivery stands.',
  values: {
    PENDING: { description: 'Not delivered yet: waiting for its next attempt (or in flight).' },
    DELIVERED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'Every attempt of the retry schedule failed, the receiver answered 410 Gone, or the endpoint was disabled.' },
  } as const,
});

const WebhookEndpointRef = builder.objectRef<WebhookEndpoint>('WebhookEndpoint').implement({
  description: 'Where the gateway POSTs state changes, signed to the Standard Webhooks spec.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The endpoint\'s id.' }),
    url: t.exposeString('url', { description: 'The receiver\'s URL (http or https).' }),
    titleId: t.exposeID('titleId', { nullable: true, description: 'Only this title\'s sessions; null for every title.' }),
    eventTypes: t.field({ type: [WebhookEventTypeRef], resolve: (e) => e.eventTypes, description: 'The events sent to it.' }),
    enabled: t.exposeBoolean('enabled', { description: 'False once the receiver answered 410 Gone: nothing more is sent.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt, description: 'When the endpoint was created.' }),
  }),
});

const CreatedWebhookEndpointRef = builder.objectRef<CreatedEndpoint>('CreatedWebhookEndpoint').implement({
  description: 'An endpoint with its signing secret, shown only in this answer.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (c) => c.endpoint, description: 'The endpoint.' }),
    secret: t.exposeString('secret', {
      description: 'The signing secret (`whsec_` and base64 of 32 random bytes): give it to `new Webhook(secret)` of the `standardwebhooks` package to verify calls. Shown only here.',
    }),
  }),
});

const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  description: 'One event sent to one endpoint, with its attempts.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The delivery\'s id: one per event and endpoint.' }),
    eventId: t.exposeID('eventId', { description: 'The event\'s id, sent as `webhook-id` on every attempt (drop duplicates by it).' }),
    eventType: t.field({ type: WebhookEventTypeRef, resolve: (d) => d.eventType, description: 'What happened.' }),
    sessionId: t.exposeString('sessionId', { description: 'The MPSD session path the event is about.' }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far.' }),
    lastStatus: t.exposeInt('lastStatus', { nullable: true, description: 'The last attempt\'s HTTP status; null when it got no answer (timeout, refused address, network error).' }),
    state: t.field({ type: WebhookDeliveryStateRef, resolve: (d) => d.state, description: 'Where the delivery stands.' }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (d) => d.nextAttemptAt,
      description: 'When the next attempt is due, while PENDING.',
    }),
    updatedAt: t.field({ type: 'DateTime', resolve: (d) => d.updatedAt, description: 'When the delivery last changed.' }),
  }),
});

builder.mutationField('createWebhookEndpoint', (t) =>
  t.field({
    type: CreatedWebhookEndpointRef,
    description:
      'Registers a receiver for state changes (operators only). Each change is POSTed to it, signed with the secret in the answer; a URL pointing at a loopback, private or link-local address is refused.',
    args: {
      url: t.arg.string({ required: true, description: 'Where to POST: http or https, no credentials in it.' }),
      titleId: t.arg.id({ description: 'Only this title\'s sessions; every title when omitted.' }),
      eventTypes: t.arg({ type: [WebhookEventTypeRef], description: 'The events to send; all when omitted.' }),
    },
    resolve: (_root, args, context) =>
      createWebhookEndpoint(context, { url: args.url, titleId: args.titleId == null ? null : String(args.titleId), eventTypes: args.eventTypes }),
  }),
);

builder.mutationField('rotateWebhookSecret', (t) =>
  t.field({
    type: CreatedWebhookEndpointRef,
    description: 'Replaces an endpoint\'s signing secret (operators only); the next attempts, retries included, are signed with the new one.',
    args: { id: t.arg.id({ required: true, description: 'The endpoint\'s id.' }) },
    resolve: (_root, args, context) => rotateWebhookSecret(context, String(args.id)),
  }),
);

builder.mutationField('deleteWebhookEndpoint', (t) =>
  t.field({
    type: 'Boolean',
    description: 'Removes an endpoint and its pending deliveries (operators only). False when there was no such endpoint.',
    args: { id: t.arg.id({ required: true, description: 'The endpoint\'s id.' }) },
    resolve: (_root, args, context) => deleteWebhookEndpoint(context, String(args.id)),
  }),
);

builder.queryField('webhookEndpoints', (t) =>
  t.field({
    type: [WebhookEndpointRef],
    description: 'Every webhook endpoint, oldest first (operators only).',
    resolve: (_root, _args, context) => listWebhookEndpoints(context),
  }),
);

builder.queryField('webhookDeliveries', (t) =>
  t.field({
    type: [WebhookDeliveryRef],
    description: 'An endpoint\'s most recent deliveries, newest first (operators only; each endpoint keeps its last 200).',
    args: {
      endpointId: t.arg.id({ required: true, description: 'The endpoint\'s id.' }),
      last: t.arg.int({ defaultValue: 20, description: 'How many, at most 200.' }),
    },
    resolve: (_root, args, context) => listWebhookDeliveries(context, String(args.endpointId), args.last ?? 20),
  }),
);
