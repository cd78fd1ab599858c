/**
 * GraphiQL, served from the bundled build (no CDN; a small page and hashed assets: graphiql-assets.ts),
 * opened on a ready example session.
 */
import { renderGraphiQL } from './graphiql-assets.js';
import type { GraphiQLOptions } from 'graphql-yoga';

export const EXAMPLE_SESSION = '/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/sessions/lobby-1';
export const EXAMPLE_TITLE = '1234567890';

const REQUEST = `# Ask GSMS for a server for a multiplayer session.
# The Headers tab below carries a placeholder Xbox Live credential; against the embedded emulator any
# "XBL3.0 x=<userhash>;<token>" works. Run this, then open the other tabs.
mutation RequestCluster {
  requestCluster(titleId: "${EXAMPLE_TITLE}", sessionId: "${EXAMPLE_SESSION}")
}
`;

const FOLLOW = `# Follow the session: its state now, then every change (and, while queued, each move in the line), until FULFILLED or ABORTED.
subscription FollowCluster {
  clusterStatus(sessionId: "${EXAMPLE_SESSION}") {
    state
    queuePosition
    estimatedWaitMs
    hostName
    region
    portMappings { name internalPort externalPort }
    updatedAt
  }
}
`;

const LIST = `# What the gateway knows about every requested session.
query Clusters {
  clusters {
    sessionId
    titleId
    state
    hostName
    region
    pollCount
    requestedAt
    updatedAt
  }
}
`;

const EXAMPLE_HEADERS = JSON.stringify({ Authorization: 'XBL3.0 x=demo-user;demo-token' }, null, 2);

export const graphiqlOptions: GraphiQLOptions = {
  title: 'gsms-graphql',
  // GraphiQL 5 leaves a tab's own `headers` out of its Headers editor (found by test/browser/graphiql.test.ts:
  // the example ran UNAUTHENTICATED); the editor falls back to these defaults, so every tab gets the credential.
  headers: EXAMPLE_HEADERS,
  defaultTabs: [
    { query: REQUEST, headers: EXAMPLE_HEADERS },
    { query: FOLLOW, headers: EXAMPLE_HEADERS },
    { query: LIST, headers: EXAMPLE_HEADERS },
  ],
  // SSE: the Headers editor travels as HTTP headers, so the credential reaches subscriptions too.
  subscriptionsProtocol: 'SSE',
};

export { renderGraphiQL };
