/**
 * CSRF prevention (@graphql-yoga/plugin-csrf-prevention). A browser sends a cross-site form post or a
 * plain GET without a CORS preflight ("simple" requests), carrying the victim's cookies; such requests
 * must carry a header no form can set. JSON POSTs (`content-type: application/json`, incl. SSE POSTs with
 * `accept: text/event-stream`) are never simple, so the lobby backends, the dashboard and the tests pass
 * untouched; form-encoded, multipart and text/plain POSTs, and GETs, need the header. GraphiQL sends it on
 * every request (it runs subscriptions over SSE as GETs), see app.ts.
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export const CSRF_HEADER = 'x-graphql-yoga-csrf';
export const CSRF_CODE = 'CSRF_HEADER_REQUIRED';

export function useCsrfPrevention(): Plugin {
  const plugin = useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }) as Plugin;
  const onRequestParse = plugin.onRequestParse!;
  return {
    // The plugin's refusal (403) has no code; give it one and say which header to send.
    onRequestParse(payload) {
      try {
        return onRequestParse(payload);
      } catch (error) {
        if (error instanceof GraphQLError) {
          const message = `This looks like a cross-site browser request: send a JSON body (content-type: application/json) or the \`${CSRF_HEADER}\` header.`;
          throw new GraphQLError(message, { extensions: { ...error.extensions, code: CSRF_CODE } });
        }
        throw error;
      }
    },
  };
}
