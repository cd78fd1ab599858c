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

/** What the gateway knows about the cluster requested for one multiplayer session. */
export type ClusterStatus = {
  __typename?: 'ClusterStatus';
  /** `X-XblCorrelationId` of the GSMS answer this status came from, for tracing with Xbox Live support. */
  correlationId?: Maybe<Scalars['String']['output']>;
  /** Address of the allocated server, once fulfilled. */
  hostName?: Maybe<Scalars['String']['output']>;
  /** Upstream posts made for this session: the request and every poll. */
  pollCount: Scalars['Int']['output'];
  /** How often GSMS advises checking again, in milliseconds. */
  pollIntervalMs: Scalars['Int']['output'];
  /** Ports of the allocated server; empty until fulfilled. */
  portMappings: Array<PortMapping>;
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
  /** Asks GSMS for a cluster for a multiplayer session and returns its state. Asking again for the same session returns that request's state; it never allocates a second cluster. While the state is QUEUED the gateway polls GSMS for you: follow `clusterStatus` to see it change. */
  requestCluster: FulfillmentState;
};


/** Ask GSMS for game servers. */
export type MutationRequestClusterArgs = {
  abortIfQueued?: InputMaybe<Scalars['Boolean']['input']>;
  sessionId: Scalars['String']['input'];
  titleId: Scalars['ID']['input'];
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
  /** The requested sessions you may see (your identity's; operators: all), oldest first, optionally filtered by title and state. */
  clusters: Array<ClusterStatus>;
};


/** Read what the gateway knows about requested clusters. Needs an Xbox Live credential (you see the sessions your identity requested) or an operator key (`x-api-key`: every session). */
export type QueryClusterArgs = {
  sessionId: Scalars['String']['input'];
};


/** Read what the gateway knows about requested clusters. Needs an Xbox Live credential (you see the sessions your identity requested) or an operator key (`x-api-key`: every session). */
export type QueryClustersArgs = {
  state?: InputMaybe<FulfillmentState>;
  titleId?: InputMaybe<Scalars['ID']['input']>;
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

export type LobbyRequestClusterMutationVariables = Exact<{
  titleId: Scalars['ID']['input'];
  sessionId: Scalars['String']['input'];
}>;


export type LobbyRequestClusterMutation = { __typename?: 'Mutation', requestCluster: FulfillmentState };

export type LobbyFollowClusterSubscriptionVariables = Exact<{
  sessionId: Scalars['String']['input'];
}>;


export type LobbyFollowClusterSubscription = { __typename?: 'Subscription', clusterStatus: { __typename?: 'ClusterStatus', state: FulfillmentState, hostName?: string | null, region?: string | null, portMappings: Array<{ __typename?: 'PortMapping', name: string, externalPort: number }> } };


export const LobbyRequestClusterDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"LobbyRequestCluster"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"titleId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"requestCluster"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"titleId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"titleId"}}},{"kind":"Argument","name":{"kind":"Name","value":"sessionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}}}]}]}}]} as unknown as DocumentNode<LobbyRequestClusterMutation, LobbyRequestClusterMutationVariables>;
export const LobbyFollowClusterDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"LobbyFollowCluster"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"clusterStatus"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"sessionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"hostName"}},{"kind":"Field","name":{"kind":"Name","value":"region"}},{"kind":"Field","name":{"kind":"Name","value":"portMappings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"externalPort"}}]}}]}}]}}]} as unknown as DocumentNode<LobbyFollowClusterSubscription, LobbyFollowClusterSubscriptionVariables>;