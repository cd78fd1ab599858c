/**
 * Gives every GraphQL error an `extensions.code`. Resolver errors carry theirs already and internal ones
 * are masked by yoga as INTERNAL_SERVER_ERROR; this covers what graphql-js itself reports: syntax,
 * validation and variable errors, which would otherwise reach callers without a code.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';

export function codeForGraphQLError(error: GraphQLError): string {
  if (error.message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  if (/^Variable "\$[^"]+" (got invalid value|of required type|of non-null type)/.test(error.message)) return 'BAD_USER_INPUT';
  if (/^Argument "[^"]+" of (required|non-null) type "[^"]+" was provided the variable/.test(error.message)) return 'BAD_USER_INPUT';
  return 'GRAPHQL_VALIDATION_FAILED';
}

export function withErrorCode<T>(error: T): T {
  if (error instanceof GraphQLError && error.extensions.code === undefined) {
    (error.extensions as Record<string, unknown>).code = codeForGraphQLError(error);
  }
  return error;
}

/**
 * graphql-ws's `onError`: the errors it sends as an `error` message, coded. An error thrown by a stream
 * mid-way reaches graphql-ws as a plain Error it wraps in a GraphQLError with the raw message; unless it was
 * one of ours (already coded), mask it as yoga does on HTTP.
 */
export function codedSocketErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) => {
    const unexpected = error.extensions.code === undefined && error.originalError !== undefined && !(error.originalError instanceof GraphQLError);
    if (unexpected) return { message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    return withErrorCode(error).toJSON();
  });
}

/** graphql-ws's `onNext`: a result built outside the envelop pipeline (e.g. a plugin's thrown error) still gets codes. */
export function codeSocketResult(result: { errors?: readonly unknown[] }): void {
  result.errors?.forEach(withErrorCode);
}

type ResultPayload = Parameters<typeof handleStreamOrSingleExecutionResult>[0];

export function useErrorCodes(): Plugin {
  const codeEach = ({ result }: { result: { errors?: readonly unknown[] } }) => void result.errors?.forEach(withErrorCode);
  // One set of hooks for every operation: envelop keeps what onSubscribe returns as long as the stream is open.
  const codeResults = (payload: ResultPayload) => handleStreamOrSingleExecutionResult(payload, codeEach);
  const onExecuteDone = { onExecuteDone: codeResults };
  const onSubscribeResult = { onSubscribeResult: codeResults };
  return {
    // The envelop hooks run on both transports: graphql-ws calls yoga.getEnveloped's execute and subscribe
    // directly, so yoga's own result hooks below never see its variable errors (found by
    // test/proof/fuzz-websocket.test.ts: `{"st": {}}` for an enum variable came back without a code).
    onExecute: () => onExecuteDone,
    onSubscribe: () => onSubscribeResult,
    onExecutionResult({ result }) {
      if (!result || !("errors" in result) || !result.errors) return;
      result.errors.forEach(withErrorCode);
    },
    onResultProcess({ result }) {
      for (const item of Array.isArray(result) ? result : [result]) {
        if (item && typeof item === 'object' && 'errors' in item && Array.isArray(item.errors)) item.errors.forEach(withErrorCode);
      }
    },
  };
}
