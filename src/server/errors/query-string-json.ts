/**
 * yoga reads `variables` and `extensions` from a GET query string or a form-encoded body with a bare
 * `JSON.parse`, so `?variables={` throws a SyntaxError that yoga masks as a 500 INTERNAL_SERVER_ERROR
 * (found by test/proof/fuzz-gateway.test.ts). This wraps whichever request parser yoga picked and turns
 * that one failure into the 400 BAD_REQUEST yoga itself answers for a POST body with invalid JSON.
 */
import { createGraphQLError, type Plugin } from 'graphql-yoga';

export function useQueryStringJsonErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      // A JSON POST body that is not JSON is already a 400 from yoga; only query strings and forms need this.
      if (!requestParser || (request.method === 'POST' && request.headers.get('content-type')?.includes('json'))) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw createGraphQLError('`variables` or `extensions` is not valid JSON.', {
            extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
          });
        }
      });
    },
  };
}
