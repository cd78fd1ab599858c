/**
 * What a game-lobby backend writes: request a cluster for a session, then follow it over graphql-ws until
 * a server is ready, and hand the connection info to the players.
 *
 *   npm start                                  # in one terminal
 *   npm run example:lobby -- <session-name>    # in another
 *
 * GATEWAY_URL (default http://127.0.0.1:4000/graphql) and XBL_AUTHORIZATION (default a demo credential
 * the embedded emulator accepts) point it elsewhere.
 */
import type { ResultOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { graphql } from './gql/index.js';

const RequestClusterDocument = graphql(`
  mutation LobbyRequestCluster($titleId: ID!, $sessionId: String!) {
    requestCluster(titleId: $titleId, sessionId: $sessionId)
  }
`);

const FollowClusterDocument = graphql(`
  subscription LobbyFollowCluster($sessionId: String!) {
    clusterStatus(sessionId: $sessionId) {
      state
      queuePosition
      estimatedWaitMs
      hostName
      region
      portMappings { name externalPort }
    }
  }
`);

/** "position 3, about 12 s": the estimate is the gateway's own (GSMS publishes no queue), null until it has evidence. */
function describeStanding(position: number | null | undefined, waitMs: number | null | undefined): string {
  const place = position == null ? 'position unknown' : `position ${position}`;
  return waitMs == null ? `${place}, no estimate yet` : `${place}, about ${Math.max(1, Math.round(waitMs / 1000))} s`;
}

const gatewayUrl = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
const authorization = process.env.XBL_AUTHORIZATION ?? 'XBL3.0 x=lobby-backend;demo-token';
const titleId = process.env.TITLE_ID ?? '1234567890';
const sessionId = `/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/sessions/${process.argv[2] ?? `lobby-${Date.now()}`}`;

const response = await fetch(gatewayUrl, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization },
  body: JSON.stringify({ query: print(RequestClusterDocument), variables: { titleId, sessionId } }),
});
const requested = (await response.json()) as { data?: { requestCluster: string }; errors?: unknown[] };
if (requested.errors) throw new Error(`requestCluster failed: ${JSON.stringify(requested.errors)}`);
console.log(`requested ${sessionId}: ${requested.data?.requestCluster}`);

const client = createClient({ url: gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization } });
let lastLine = '';
try {
  for await (const result of client.iterate({ query: print(FollowClusterDocument), variables: { sessionId } })) {
    if (result.errors) throw new Error(`clusterStatus failed: ${JSON.stringify(result.errors)}`);
    const status = (result.data as ResultOf<typeof FollowClusterDocument>).clusterStatus;
    // While queued, a new event comes each time the place in line or the estimate moves (the first may repeat
    // the current state: print changes only).
    const line = status.state === 'QUEUED' ? `queued: ${describeStanding(status.queuePosition, status.estimatedWaitMs)}` : `state: ${status.state}`;
    if (line !== lastLine) console.log(line);
    lastLine = line;
    if (status.state === 'FULFILLED') {
      const ports = status.portMappings.map((p) => `${p.name}=${p.externalPort}`).join(', ');
      console.log(`server ready: ${status.hostName} (${status.region}) ports ${ports}`);
    }
  }
} finally {
  await client.dispose();
}
