/**
 * The one workload every configuration serves: a `requestCluster` for one of a fixed set of sessions of one
 * title, rotating through them. The emulator has every one of them fulfilled before measuring starts, so
 * each request, whoever serves it, costs the upstream the same: one keep-alive POST answered `Fulfilled`
 * from a map lookup.
 */
export const TITLE_ID = '1234567890';
export const AUTHORIZATION = 'XBL3.0 x=bench-user;bench-token';

/**
 * Callers of the mutation path: session i is always requested by identity i mod IDENTITIES, so per-identity
 * state (rate-limit counters, a record's requesters) stays at the size a real fleet of players gives it.
 */
export const IDENTITIES = 100;
export const authorizationFor = (sessionIndex: number): string => `XBL3.0 x=bench-user-${sessionIndex % IDENTITIES};bench-token`;

export function benchSessionId(index: number, prefix = 'bench'): string {
  return `/serviceconfigs/00000000-0000-0000-0000-00000000b00c/sessiontemplates/bench/sessions/${prefix}-${index}`;
}

export const REQUEST_CLUSTER = 'mutation RequestCluster($titleId: ID!, $sessionId: String!) { requestCluster(titleId: $titleId, sessionId: $sessionId) }';

export const CLUSTER_STATUS = 'subscription ClusterStatus($sessionId: String!) { clusterStatus(sessionId: $sessionId) { state hostName } }';

export function graphqlBody(sessionId: string): string {
  return JSON.stringify({ query: REQUEST_CLUSTER, variables: { titleId: TITLE_ID, sessionId } });
}

/** What the gateway sends upstream for the same request (client.ts: no `abortIfQueued` member when false). */
export function upstreamBody(sessionId: string): string {
  return JSON.stringify({ sessionId });
}

export const GRAPHQL_HEADERS = { 'content-type': 'application/json', authorization: AUTHORIZATION };

export const UPSTREAM_HEADERS = {
  'content-type': 'application/json',
  'x-xbl-contract-version': '1',
  'user-agent': 'bench-direct',
  authorization: AUTHORIZATION,
};
