/** `floor`: the smallest graphql-yoga server around the minimal resolver (yoga's defaults, logging off). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { MINIMAL_TYPE_DEFS, minimalResolvers } from './minimal-resolver.js';

export async function startFloor(upstreamUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const { pool, resolvers } = minimalResolvers(upstreamUrl);
  const yoga = createYoga({
    schema: createSchema({ typeDefs: MINIMAL_TYPE_DEFS, resolvers }),
    context: ({ request }) => ({ authorization: request.headers.get('authorization') ?? undefined }),
    logging: false,
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool.close();
    },
  };
}
