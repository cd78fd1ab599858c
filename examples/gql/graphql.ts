/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date and time in UTC, as an ISO-8601 string, e.g. `2026-11-25T14:00:00.000Z`. */
  DateTime: { input: any; output: any; }
};

/** How `clusters` sorts its list. */
export type ClusterOrder =
  /** Queued sessions first, by title and then by `queuePosition` (next to be served first); then the others, oldest request first. */
  | 'QUEUE_POSITION'
  /** Oldest request first. */
  | 'REQUESTED_AT';

/** What the gateway knows about the cluster requested for one multiplayer session. */
export type ClusterStatus = {
  __typename?: 'ClusterStatus';
  /** `X-XblCorrelationId` of the GSMS answer this status came from, for tracing with Xbox Live support. */
  correlationId?: Maybe<Scalars['String']['output']>;
  /** How long the session will likely stay queued from now, in milliseconds: its position times the mean time between fulfilments of this title's queued sessions, as this deployment observed them lately. An estimate from the gateway's view, not a promise from GSMS (which publishes none). Null unless QUEUED, and until the title has shown a few fulfilments. */
  estimatedWaitMs?: Maybe<Scalars['Int']['output']>;
  /** Address of the allocated server, once fulfilled. */
  hostName?: Maybe<Scalars['String']['output']>;
  /** Upstream posts made for this session: the request and every poll. */
  pollCount: Scalars['Int']['output'];
  /** How often GSMS advises checking again, in milliseconds. */
  pollIntervalMs: Scalars['Int']['output'];
  /** Ports of the allocated server; empty until fulfilled. */
  portMappings: Array<PortMapping>;
  /** Where the session stands in its title's queue: 1 is the next to be served. Counted among the sessions of the same title queued through this gateway deployment, in request order (the order GSMS serves them); sessions other callers queued at GSMS directly are not counted, since GSMS publishes no queue. Null unless QUEUED. */
  queuePosition?: Maybe<Scalars['Int']['output']>;
  /** Data-centre region of the allocated server, once fulfilled. */
  region?: Maybe<Scalars['String']['output']>;
  /** When the session was first requested. */
  requestedAt: Scalars['DateTime']['output'];
  /** Secure device address of the cluster (base64), once fulfilled and when GSMS sends one. */
  secureContext?: Maybe<Scalars['String']['output']>;
  /** The MPSD session path, in canonical spelling: `/serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}`. */
  sessionId: Scalars['String']['output'];
  /** The latest fulfillment state. */
  state: FulfillmentState;
  /** The title the cluster was requested for, as a decimal number. */
  titleId: Scalars['ID']['output'];
  /** When GSMS last answered for this session. */
  updatedAt: Scalars['DateTime']['output'];
};

/** An endpoint with its signing secret, shown only in this answer. */
export type CreatedWebhookEndpoint = {
  __typename?: 'CreatedWebhookEndpoint';
  /** The endpoint. */
  endpoint: WebhookEndpoint;
  /** The signing secret (`whsec_` and base64 of 32 random bytes): give it to `new Webhook(secret)` of the `standardwebhooks` package to verify calls. Shown only here. */
  secret: Scalars['String']['output'];
};

/** Where a cluster request stands at GSMS. */
export type FulfillmentState =
  /** No capacity, and the request asked not to be queued (`abortIfQueued`). Terminal. */
  | 'ABORTED'
  /** A server is allocated: its connection info is on the ClusterStatus. Terminal. */
  | 'FULFILLED'
  /** No capacity yet: the request waits in a first-come, first-served queue. The gateway polls GSMS for you. */
  | 'QUEUED';

/** Ask GSMS for game servers. */
export type Mutation = {
  __typename?: 'Mutation';
  /** Registers a receiver for state changes (operators only). Each change is POSTed to it, signed with the secret in the answer; a URL pointing at a loopback, private or link-local address is refused. */
  createWebhookEndpoint: CreatedWebhookEndpoint;
  /** Removes an endpoint and its pending deliveries (operators only). False when there was no such endpoint. */
  deleteWebhookEndpoint: Scalars['Boolean']['output'];
  /** Asks GSMS for a cluster for a multiplayer session and returns its state. Asking again for the same session returns that request's state; it never allocates a second cluster. While the state is QUEUED the gateway polls GSMS for you: follow `clusterStatus` to see it change. */
  requestCluster: FulfillmentState;
  /** Replaces an endpoint's signing secret (operators only); the next attempts, retries included, are signed with the new one. */
  rotateWebhookSecret: CreatedWebhookEndpoint;
};


/** Ask GSMS for game servers. */
export type MutationCreateWebhookEndpointArgs = {
  eventTypes?: InputMaybe<Array<WebhookEventType>>;
  titleId?: InputMaybe<Scalars['ID']['input']>;
  url: Scalars['String']['input'];
};


/** Ask GSMS for game servers. */
export type MutationDeleteWebhookEndpointArgs = {
  id: Scalars['ID']['input'];
};


/** Ask GSMS for game servers. */
export type MutationRequestClusterArgs = {
  abortIfQueued?: InputMaybe<Scalars['Boolean']['input']>;
  sessionId: Scalars['String']['input'];
  titleId: Scalars['ID']['input'];
};


/** Ask GSMS for game servers. */
export type MutationRotateWebhookSecretArgs = {
  id: Scalars['ID']['input'];
};

/** A named port of the allocated server. */
export type PortMapping = {
  __typename?: 'PortMapping';
  /** The port players connect to on `hostName`. */
  externalPort: Scalars['Int']['output'];
  /** The port the game server listens on inside its host. */
  internalPort: Scalars['Int']['output'];
  /** The port's name, as the title's server configuration gives it (e.g. `game`). */
  name: Scalars['String']['output'];
};

/** Read what the gateway knows about requested clusters. Needs an Xbox Live credential (you see the sessions your identity requested) or an operator key (`x-api-key`: every session). */
export type Query = {
  __typename?: 'Query';
  /** The status of one session your identity requested (operators: any requested session); null with a NOT_FOUND error for any other session, including one only someone else requested. */
  cluster?: Maybe<ClusterStatus>;
  /** The requested sessions you may see (your identity's; operators: all), oldest first unless `orderBy` says otherwise, optionally filtered by title and state. */
  clusters: Array<ClusterStatus>;
  /** An endpoint's most recent deliveries, newest first (operators only; each endpoint keeps its last 200). */
  webhookDeliveries: Array<WebhookDelivery>;
  /** Every webhook endpoint, oldest first (operators only). */
  webhookEndpoints: Array<WebhookEndpoint>;
};


/** Read what the gateway knows about requested clusters. Needs an Xbox Live credential (you see the sessions your identity requested) or an operator key (`x-api-key`: every session). */
export type QueryClusterArgs = {
  sessionId: Scalars['String']['input'];
};


/** Read what the gateway knows about requested clusters. Needs an Xbox Live credential (you see the sessions your identity requested) or an operator key (`x-api-key`: every session). */
export type QueryClustersArgs = {
  orderBy?: InputMaybe<ClusterOrder>;
  state?: InputMaybe<FulfillmentState>;
  titleId?: InputMaybe<Scalars['ID']['input']>;
};


/** Read what the gateway knows about requested clusters. Needs an Xbox Live credential (you see the sessions your identity requested) or an operator key (`x-api-key`: every session). */
export type QueryWebhookDeliveriesArgs = {
  endpointId: Scalars['ID']['input'];
  last?: InputMaybe<Scalars['Int']['input']>;
};

/** Follow sessions as GSMS serves them, instead of polling. */
export type Subscription = {
  __typename?: 'Subscription';
  /** Every change to any session you may see (operators: all sessions; players: their own), as it happens, until you unsubscribe. Sends no current state first: load that with the `clusters` query, and keep the newest of each session by `updatedAt`. */
  clusterEvents: ClusterStatus;
  /** Follows one session your identity requested (operators: any): its current status at once, then every change, ending after FULFILLED or ABORTED. Ends with a WATCH_TIMEOUT error if the session stays queued past the gateway's watch time; a NOT_FOUND error for a session you may not see. */
  clusterStatus: ClusterStatus;
};


/** Follow sessions as GSMS serves them, instead of polling. */
export type SubscriptionClusterEventsArgs = {
  titleId?: InputMaybe<Scalars['ID']['input']>;
};


/** Follow sessions as GSMS serves them, instead of polling. */
export type SubscriptionClusterStatusArgs = {
  sessionId: Scalars['String']['input'];
};

/** One event sent to one endpoint, with its attempts. */
export type WebhookDelivery = {
  __typename?: 'WebhookDelivery';
  /** Attempts made so far. */
  attempts: Scalars['Int']['output'];
  /** The event's id, sent as `webhook-id` on every attempt (drop duplicates by it). */
  eventId: Scalars['ID']['output'];
  /** What happened. */
  eventType: WebhookEventType;
  /** The delivery's id: one per event and endpoint. */
  id: Scalars['ID']['output'];
  /** The last attempt's HTTP status; null when it got no answer (timeout, refused address, network error). */
  lastStatus?: Maybe<Scalars['Int']['output']>;
  /** When the next attempt is due, while PENDING. */
  nextAttemptAt?: Maybe<Scalars['DateTime']['output']>;
  /** The MPSD session path the event is about. */
  sessionId: Scalars['String']['output'];
  /** Where the delivery stands. */
  state: WebhookDeliveryState;
  /** When the delivery last changed. */
  updatedAt: Scalars['DateTime']['output'];
};

/** Where one delivery stands. */
export type WebhookDeliveryState =
  /** The receiver answered 2xx. */
  | 'DELIVERED'
  /** Every attempt of the retry schedule failed, the receiver answered 410 Gone, or the endpoint was disabled. */
  | 'FAILED'
  /** Not delivered yet: waiting for its next attempt (or in flight). */
  | 'PENDING';

/** Where the gateway POSTs state changes, signed to the Standard Webhooks spec. */
export type WebhookEndpoint = {
  __typename?: 'WebhookEndpoint';
  /** When the endpoint was created. */
  createdAt: Scalars['DateTime']['output'];
  /** False once the receiver answered 410 Gone: nothing more is sent. */
  enabled: Scalars['Boolean']['output'];
  /** The events sent to it. */
  eventTypes: Array<WebhookEventType>;
  /** The endpoint's id. */
  id: Scalars['ID']['output'];
  /** Only this title's sessions; null for every title. */
  titleId?: Maybe<Scalars['ID']['output']>;
  /** The receiver's URL (http or https). */
  url: Scalars['String']['output'];
};

/** A change of a session's state that webhooks deliver; the payload's `type` is the dotted name. */
export type WebhookEventType =
  /** `cluster.aborted`: no capacity, and the request asked not to be queued. */
  | 'CLUSTER_ABORTED'
  /** `cluster.fulfilled`: a server is allocated; the payload carries its connection info. */
  | 'CLUSTER_FULFILLED'
  /** `cluster.queued`: the session was requested and waits in the queue. */
  | 'CLUSTER_QUEUED'
  /** `cluster.watch_timeout`: the gateway stopped watching a session still queued after its watch time. */
  | 'CLUSTER_WATCH_TIMEOUT';

export type LobbyRequestClusterMutationVariables = Exact<{
  titleId: Scalars['ID']['input'];
  sessionId: Scalars['String']['input'];
}>;


export type LobbyRequestClusterMutation = { __typename?: 'Mutation', requestCluster: FulfillmentState };

export type LobbyFollowClusterSubscriptionVariables = Exact<{
  sessionId: Scalars['String']['input'];
}>;


export type LobbyFollowClusterSubscription = { __typename?: 'Subscription', clusterStatus: { __typename?: 'ClusterStatus', state: FulfillmentState, queuePosition?: number | null, estimatedWaitMs?: number | null, hostName?: string | null, region?: string | null, portMappings: Array<{ __typename?: 'PortMapping', name: string, externalPort: number }> } };


export const LobbyRequestClusterDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"LobbyRequestCluster"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"titleId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"requestCluster"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"titleId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"titleId"}}},{"kind":"Argument","name":{"kind":"Name","value":"sessionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}}}]}]}}]} as unknown as DocumentNode<LobbyRequestClusterMutation, LobbyRequestClusterMutationVariables>;
export const LobbyFollowClusterDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"LobbyFollowCluster"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"clusterStatus"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"sessionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"queuePosition"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedWaitMs"}},{"kind":"Field","name":{"kind":"Name","value":"hostName"}},{"kind":"Field","name":{"kind":"Name","value":"region"}},{"kind":"Field","name":{"kind":"Name","value":"portMappings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"externalPort"}}]}}]}}]}}]} as unknown as DocumentNode<LobbyFollowClusterSubscription, LobbyFollowClusterSubscriptionVariables>;