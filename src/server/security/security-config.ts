/**
 * The security settings: who is an operator, what is exposed, and every limit. Parsed by server/config.ts
 * with the rest of the environment (its zod object spreads `securityEnv`), kept here so the limits and
 * their defaults sit next to the code that applies them. README "Configuration" lists each variable.
 */
import { z } from 'zod';

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback);

const TRUE = ['true', '1', 'on', 'yes'];
const FALSE = ['false', '0', 'off', 'no'];
const bool = (fallback: boolean) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      const word = value.trim().toLowerCase();
      if (TRUE.includes(word)) return true;
      if (FALSE.includes(word)) return false;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be true or false' });
      return z.NEVER;
    });

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * `30/60s`: at most 30 calls per fixed 60 s window; `off` disables the limit. Whole seconds, minutes or hours:
 * Redis expires the shared counter in whole seconds.
 */
const RATE = /^(\d+)\s*\/\s*(\d+)\s*(s|m|h)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

export interface RateLimit {
  max: number;
  windowMs: number;
}

function parseRate(value: string): RateLimit | null | undefined {
  if (value === 'off') return null;
  const match = RATE.exec(value);
  if (!match) return undefined;
  const max = Number(match[1]);
  const windowMs = Number(match[2]) * UNIT_MS[match[3] as keyof typeof UNIT_MS];
  return max >= 1 && windowMs >= 1_000 ? { max, windowMs } : undefined;
}

export const securityEnv = {
  GATEWAY_OPERATOR_KEY_HASHES: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((hash) => hash.trim().toLowerCase()).filter(Boolean))
    // The hashes are not secret, but the message still names only the rule, never a value.
    .refine((hashes) => hashes.every((hash) => SHA256_HEX.test(hash)), 'must be comma-separated SHA-256 hex digests (64 hex characters each)'),
  GRAPHQL_INTROSPECTION: bool(true),
  GRAPHIQL: bool(true),
  GRAPHQL_MAX_DEPTH: int(6, 1, 1_000),
  GRAPHQL_MAX_ALIASES: int(15, 0, 10_000),
  GRAPHQL_MAX_TOKENS: int(1_000, 10, 1_000_000),
  GRAPHQL_MAX_COST: int(5_000, 1, 10_000_000),
  GRAPHQL_MAX_DIRECTIVES: int(50, 0, 10_000),
  GRAPHQL_MAX_BODY_BYTES: int(102_400, 1_024, 64 * 1024 * 1024),
  CSRF_PREVENTION: bool(true),
  RATE_LIMIT_REQUEST_CLUSTER: z
    .string()
    .default('60/60s')
    .transform((value, ctx) => {
      const rate = parseRate(value.trim().toLowerCase());
      if (rate === undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be `<max>/<window><s|m|h>` (e.g. `30/60s`) or `off`' });
        return z.NEVER;
      }
      return rate;
    }),
  WS_CONNECTION_INIT_TIMEOUT_MS: int(3_000, 1, 600_000),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: int(100, 1, 100_000),
  WS_MAX_CONNECTIONS_PER_IDENTITY: int(50, 1, 100_000),
  WS_KEEPALIVE_MS: int(12_000, 0, 600_000),
};

const securityObject = z.object(securityEnv);
type SecurityEnv = z.infer<typeof securityObject>;

export interface SecurityConfig {
  /** SHA-256 hex digests of the operator API keys (`x-api-key`); empty means no operators. */
  operatorKeyHashes: string[];
  introspection: boolean;
  graphiql: boolean;
  /** graphql-armor's limits, per operation. */
  limits: { maxDepth: number; maxAliases: number; maxTokens: number; maxCost: number; maxDirectives: number };
  maxBodyBytes: number;
  csrfPrevention: boolean;
  /** Per-identity limit on `requestCluster`; null when switched off. */
  requestClusterRate: RateLimit | null;
  ws: { connectionInitTimeoutMs: number; maxSubscriptionsPerConnection: number; maxConnectionsPerIdentity: number; keepAliveMs: number };
}

export function securityConfig(e: SecurityEnv): SecurityConfig {
  return {
    operatorKeyHashes: e.GATEWAY_OPERATOR_KEY_HASHES,
    introspection: e.GRAPHQL_INTROSPECTION,
    graphiql: e.GRAPHIQL,
    limits: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxCost: e.GRAPHQL_MAX_COST,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
    },
    maxBodyBytes: e.GRAPHQL_MAX_BODY_BYTES,
    csrfPrevention: e.CSRF_PREVENTION,
    requestClusterRate: e.RATE_LIMIT_REQUEST_CLUSTER,
    ws: {
      connectionInitTimeoutMs: e.WS_CONNECTION_INIT_TIMEOUT_MS,
      maxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxConnectionsPerIdentity: e.WS_MAX_CONNECTIONS_PER_IDENTITY,
      keepAliveMs: e.WS_KEEPALIVE_MS,
    },
  };
}
