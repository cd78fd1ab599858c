/**
 * Per-operation limits on the document itself, from graphql-armor: depth, aliases, tokens, cost and
 * directives, plus masking of "Did you mean …?" field suggestions. They run in parse and validate, so
 * they hold for HTTP and graphql-ws alike (both go through yoga's envelop pipeline).
 *
 * Depth uses armor's own rule, which skips only the `__schema` field: GraphiQL's schema query (the Docs
 * panel) passes, while a deep `__type { ofType { ofType … } }` chain is counted and refused
 * (docs/decisions.md, "Depth limit"). Cost skips `__schema` the same way.
 *
 * Armor reports a refusal as a GraphQLError whose message starts with "Syntax Error:" and which has no
 * code; each limit here reports its own code instead, and the message without the misleading prefix.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { SecurityConfig } from './security-config.js';

type ArmorConfig = NonNullable<Parameters<typeof EnvelopArmorPlugin>[0]>;
type RejectCallback = NonNullable<NonNullable<ArmorConfig['maxDepth']>['onReject']>[number];

export const LIMIT_CODES = {
  depth: 'MAX_DEPTH_EXCEEDED',
  aliases: 'MAX_ALIASES_EXCEEDED',
  tokens: 'MAX_TOKENS_EXCEEDED',
  cost: 'MAX_COST_EXCEEDED',
  directives: 'MAX_DIRECTIVES_EXCEEDED',
} as const;

/**
 * Validation rules get a context and report through it, so every broken limit is listed at once; the token
 * limit runs inside the parser (no context) and stops it by throwing.
 */
function rejectWith(code: string): { onReject: RejectCallback[]; propagateOnRejection: false } {
  const onReject: RejectCallback = (context, error) => {
    const coded = new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code } });
    if (!context) throw coded;
    context.reportError(coded);
  };
  return { onReject: [onReject], propagateOnRejection: false };
}

export function useQueryLimits(limits: SecurityConfig['limits']): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ...rejectWith(LIMIT_CODES.depth) },
    maxAliases: { n: limits.maxAliases, ...rejectWith(LIMIT_CODES.aliases) },
    maxTokens: { n: limits.maxTokens, ...rejectWith(LIMIT_CODES.tokens) },
    costLimit: { maxCost: limits.maxCost, ...rejectWith(LIMIT_CODES.cost) },
    maxDirectives: { n: limits.maxDirectives, ...rejectWith(LIMIT_CODES.directives) },
    blockFieldSuggestion: { enabled: true },
  }) as Plugin;
}
