/**
 * The `floor` and `peer` servers' whole API: one `requestCluster` mutation whose resolver makes the same
 * keep-alive undici POST the gateway makes (same path, headers and body), and returns the state. No
 * validation of ids, no registry, no logging, no retries: what any GraphQL wrapper of GSMS must at least do.
 */
import { Pool } from 'undici';

export const MINIMAL_TYPE_DEFS = /* GraphQL */ `
  enum FulfillmentState { FULFILLED QUEUED ABORTED }
  type Query { ok: Boolean! }
  type Mutation { requestCluster(titleId: ID!, sessionId: String!, abortIfQueued: Boolean = false): FulfillmentState! }
`;

interface RequestClusterArgs {
  titleId: string;
  sessionId: string;
  abortIfQueued?: boolean | null;
}

interface AuthorizedContext {
  authorization: string | undefined;
}

export function minimalResolvers(upstreamUrl: string) {
  // Same pool size as the gateway's GSMS client.
  const pool = new Pool(upstreamUrl, { connections: 64 });
  return {
    pool,
    resolvers: {
      Query: { ok: () => true },
      Mutation: {
        async requestCluster(_root: unknown, args: RequestClusterArgs, context: AuthorizedContext): Promise<string> {
          const response = await pool.request({
            method: 'POST',
            path: `/titles/${encodeURIComponent(args.titleId)}/clusters`,
            headers: {
              'User-Agent': 'bench-floor',
              'Content-Type': 'application/json',
              'x-xbl-contract-version': '1',
              Authorization: context.authorization ?? '',
            },
            body: JSON.stringify(args.abortIfQueued ? { sessionId: args.sessionId, abortIfQueued: true } : { sessionId: args.sessionId }),
          });
          const answer = (await response.body.json()) as { fulfillmentState?: string };
          if (response.statusCode !== 200 || typeof answer.fulfillmentState !== 'string') throw new Error(`upstream answered ${response.statusCode}`);
          return answer.fulfillmentState.toUpperCase();
        },
      },
    },
  };
}
