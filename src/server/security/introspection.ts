/**
 * Introspection switched off (GRAPHQL_INTROSPECTION=false): graphql-js's own NoSchemaIntrospectionCustomRule
 * on every operation, so `__schema` and `__type` are refused with GRAPHQL_VALIDATION_FAILED.
 *
 * Not yoga's useDisableIntrospection: it marks HTTP requests in onRequestParse and checks
 * `context.request` in onValidate, and graphql-ws operations have neither, so sockets would still
 * introspect. Adding the rule unconditionally covers both transports with the same three lines.
 */
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
