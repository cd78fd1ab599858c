/** `peer`: the same minimal resolver on Apollo Server 4's standalone server, as a user would set it up. */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { MINIMAL_TYPE_DEFS, minimalResolvers } from './minimal-resolver.js';

export async function startPeer(upstreamUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const { pool, resolvers } = minimalResolvers(upstreamUrl);
  const server = new ApolloServer<{ authorization: string | undefined }>({ typeDefs: MINIMAL_TYPE_DEFS, resolvers });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return {
    url: new URL('/graphql', url).href,
    async close() {
      await server.stop();
      await pool.close();
    },
  };
}
