/**
 * graphql-ws limits. graphql-ws gives the connection-init timeout (`connectionInitWaitTimeout`, closing
 * with 4408) and the idle ping/pong (useServer's `keepAlive`: a ping every interval, and a socket that
 * has not answered by the next one is terminated). The two counts are kept here, in its hooks:
 * - connections per identity, checked when a connection is initialised: one over the limit is closed with
 *   4429 ("too many connections for this identity", after HTTP's 429), its place released on close. The
 *   identity is the one `connectionParams` (or the upgrade request's headers) present; a wrong operator
 *   key there closes the connection with 4401;
 * - operations in flight per connection, checked on each subscribe: one over the limit gets an error
 *   with code TOO_MANY_SUBSCRIPTIONS and the connection stays open for the others.
 */
import { GraphQLError } from 'graphql';
import type { Context } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { SecurityConfig } from './security-config.js';

export const TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS';
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;
export const CLOSE_UNAUTHORIZED = 4401;

type WsContext = Context<Record<string, unknown> | undefined, Extra>;

export interface WsLimits {
  connectionInitWaitTimeout: number;
  keepAliveMs: number;
  /** graphql-ws `onConnect`: false refuses the connection (after closing it with 4401 or 4429). */
  onConnect(ctx: WsContext): boolean;
  /** graphql-ws `onClose`: releases the connection's place. */
  onClose(ctx: WsContext): void;
  /** An error for a subscribe over the per-connection limit, else null. */
  checkSubscribe(ctx: WsContext): GraphQLError | null;
}

/** `identify` names the connection's caller for counting, and throws for a wrong operator key. */
export function createWsLimits(limits: SecurityConfig['ws'], identify: (ctx: WsContext) => string): WsLimits {
  const perIdentity = new Map<string, number>();
  const counted = new WeakMap<WsContext, string>();
  return {
    connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
    keepAliveMs: limits.keepAliveMs,
    onConnect(ctx) {
      const close = (code: number, reason: string) => ctx.extra.socket.close(code, reason);
      let identity: string;
      try {
        identity = identify(ctx);
      } catch {
        close(CLOSE_UNAUTHORIZED, 'Unauthorized: the x-api-key is not a valid operator key');
        return false;
      }
      const open = perIdentity.get(identity) ?? 0;
      if (open >= limits.maxConnectionsPerIdentity) {
        close(CLOSE_TOO_MANY_CONNECTIONS, `Too many connections for this identity (at most ${limits.maxConnectionsPerIdentity})`);
        return false;
      }
      perIdentity.set(identity, open + 1);
      counted.set(ctx, identity);
      return true;
    },
    onClose(ctx) {
      const identity = counted.get(ctx);
      if (identity === undefined) return;
      counted.delete(ctx);
      const open = (perIdentity.get(identity) ?? 1) - 1;
      if (open > 0) perIdentity.set(identity, open);
      else perIdentity.delete(identity);
    },
    checkSubscribe(ctx) {
      // graphql-ws registers the new operation before calling onSubscribe, so it is counted here too.
      const inFlight = Object.keys(ctx.subscriptions).length;
      if (inFlight <= limits.maxSubscriptionsPerConnection) return null;
      const message = `Too many operations on this connection (at most ${limits.maxSubscriptionsPerConnection}); open another connection or end some.`;
      return new GraphQLError(message, { extensions: { code: TOO_MANY_SUBSCRIPTIONS } });
    },
  };
}
