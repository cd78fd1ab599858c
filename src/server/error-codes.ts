/**
 * Gives every GraphQL error an `extensions.code`. Resolver errors carry theirs already and internal ones
 * are masked by yoga as INTERNAL_SERVER_ERROR; this covers what graphql-js itself reports: syntax,
 * validation and variable errors, which would otherwise reach callers without a code.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function codeForGraphQLError(error: GraphQLError): string {
  if (error.message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  if (/^Variable "\$[^"]+" (got invalid value|of required type|of non-null type)/.test(error.message)) return 'BAD_USER_INPUT';
  return 'GRAPHQL_VALIDATION_FAILED';
}

export function withErrorCode<T>(error: T): T {
  if (error instanceof GraphQLError && error.extensions.code === undefined) {
    (error.extensions as Record<string, unknown>).code = codeForGraphQLError(error);
  }
  return error;
}

export function useErrorCodes(): Plugin {
  return {
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
