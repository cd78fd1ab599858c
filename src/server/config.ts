/**
 * The gateway's configuration: read once from the environment, validated, and passed down as a typed
 * object. Nothing else reads process.env. A bad value stops the start with a message naming the variable.
 */
import { z } from 'zod';
import { EmulatorConfigError, emulatorOptionsFromEnv, type EmulatorEnvConfig } from '../gsms/emulator/options.js';
import { parseXblAuthorization } from '../gsms/xbl-authorization.js';
import { parseCredentialKey } from '../clusters/credential-cipher.js';
import { securityConfig, securityEnv, type SecurityConfig } from './security/security-config.js';
import { operatingConfig, operatingEnv, type OperatingConfig } from './metrics/operating-config.js';
import { webhookConfig, webhookEnv } from '../webhooks/webhook-config.js';
import type { WebhookConfig } from '../webhooks/webhook-service.js';

/** `host:port,host:port,…` into seed nodes; null when any entry is not a host and a port. */
function parseClusterNodes(value: string): RedisClusterNode[] | null {
  const nodes: RedisClusterNode[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    // The last colon splits, so a bracketed IPv6 address keeps its own colons.
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(entry);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65_535) return null;
    nodes.push({ host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port });
  }
  return nodes.length > 0 ? nodes : null;
}

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback);

const schema = z.object({
  PORT: int(4000, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GSMS_BASE_URL: z.string().url().optional(),
  GSMS_AUTHORIZATION: z
    .string()
    .optional()
    // The value is a secret: the message must not repeat it.
    .refine((value) => value === undefined || parseXblAuthorization(value) !== null, 'must be `XBL3.0 x=<userhash>;<token>`'),
  GSMS_WATCH_TIMEOUT_MS: int(600_000, 1),
  GSMS_CONNECT_TIMEOUT_MS: int(5_000, 1),
  GSMS_REQUEST_TIMEOUT_MS: int(10_000, 1),
  GSMS_RETRY_MAX_ATTEMPTS: int(12, 1, 50),
  GSMS_RETRY_MAX_TOTAL_MS: int(30_000, 1),
  GSMS_RECORD_RETENTION_MS: int(3_600_000, 1_000),
  ...securityEnv,
  ...operatingEnv,
  ...webhookEnv,
  GSMS_POLL_MAX_BACKOFF_MS: int(30_000, 100),
  REDIS_URL: z.string().url().refine((url) => /^rediss?:\/\//.test(url), 'must be a redis:// or rediss:// URL').optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value, context) => {
      const nodes = parseClusterNodes(value);
      if (!nodes) context.addIssue({ code: 'custom', message: 'must be host:port[,host:port…] (seed nodes of the Redis Cluster)' });
      return nodes ?? [];
    })
    .optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('gsms:'),
  REDIS_COMMAND_TIMEOUT_MS: int(2_000, 50, 60_000),
  GSMS_POLL_LEASE_MS: int(3_000, 500, 300_000),
  // The value is a secret: the message must not repeat it.
  GSMS_CREDENTIAL_KEY: z
    .string()
    .optional()
    .refine((value) => value === undefined || parseCredentialKey(value) !== null, 'must be 32 bytes, as 64 hex digits or base64'),
});

export interface GatewayConfig {
  port: number;
  host: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  /** Upstream base URL; unset means "start the embedded emulator". */
  gsmsBaseUrl: string | undefined;
  /** Credential used when a request brings none. Secret. */
  defaultAuthorization: string | undefined;
  watchTimeoutMs: number;
  gsms: { connectTimeoutMs: number; requestTimeoutMs: number; maxAttempts: number; maxTotalMs: number };
  recordRetentionMs: number;
  /** Ceiling of the poller's back-off after upstream errors: bounds how long a poller takes to notice GSMS is back. */
  pollMaxBackoffMs: number;
  /** The embedded emulator's settings (GSMS_EMULATOR_*), used when gsmsBaseUrl is unset; port 0 unless set. */
  embeddedEmulator: EmulatorEnvConfig;
  /** Operators, introspection/GraphiQL switches and every limit (see security/security-config.ts). */
  security: SecurityConfig;
  /** /metrics, /dashboard and the upstream readiness check (see metrics/operating-config.ts). */
  operating: OperatingConfig;
  /** Scale-out (REDIS_URL or REDIS_CLUSTER_NODES set): shared registry, pub/sub and poll leases in Redis; unset means in memory. */
  redis: RedisConfig | undefined;
  /** Webhook delivery: timeout, retry schedule, private networks (see webhooks/webhook-config.ts). */
  webhooks: WebhookConfig;
}

export interface RedisClusterNode {
  host: string;
  port: number;
}

/** One primary (REDIS_URL) or a Redis Cluster found from seed nodes (REDIS_CLUSTER_NODES). */
export type RedisTopology = { kind: 'single'; url: string } | { kind: 'cluster'; nodes: RedisClusterNode[] };

export interface RedisConfig {
  topology: RedisTopology;
  /** Prefix of every key and channel, so deployments can share one Redis. */
  keyPrefix: string;
  commandTimeoutMs: number;
  /** How long a poll lease lasts without renewal (docs/decisions.md, "Poll ownership across instances"). */
  pollLeaseMs: number;
  /** AES-256-GCM key sealing the polling credential stored in Redis. Secret. */
  credentialKey: Buffer;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const e = parsed.data;
  const credentialKey = e.GSMS_CREDENTIAL_KEY === undefined ? null : parseCredentialKey(e.GSMS_CREDENTIAL_KEY);
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      'Invalid configuration:\n  REDIS_URL, REDIS_CLUSTER_NODES: set one, not both (REDIS_URL for one primary, REDIS_CLUSTER_NODES for a Redis Cluster)',
    );
  }
  const topology: RedisTopology | undefined = e.REDIS_URL
    ? { kind: 'single', url: e.REDIS_URL }
    : e.REDIS_CLUSTER_NODES
      ? { kind: 'cluster', nodes: e.REDIS_CLUSTER_NODES }
      : undefined;
  if (topology && !credentialKey) {
    // Refuse rather than generate one: each instance would make its own, and none could read another's.
    const variable = topology.kind === 'single' ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES';
    throw new ConfigError(
      `Invalid configuration:\n  GSMS_CREDENTIAL_KEY: required when ${variable} is set (32 bytes as 64 hex digits or base64, the same on every instance; e.g. \`openssl rand -hex 32\`)`,
    );
  }
  let embeddedEmulator: EmulatorEnvConfig;
  try {
    embeddedEmulator = emulatorOptionsFromEnv(env, { defaultPort: 0 });
  } catch (error) {
    throw error instanceof EmulatorConfigError ? new ConfigError(error.message) : error;
  }
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    gsmsBaseUrl: e.GSMS_BASE_URL,
    defaultAuthorization: e.GSMS_AUTHORIZATION,
    watchTimeoutMs: e.GSMS_WATCH_TIMEOUT_MS,
    gsms: {
      connectTimeoutMs: e.GSMS_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: e.GSMS_REQUEST_TIMEOUT_MS,
      maxAttempts: e.GSMS_RETRY_MAX_ATTEMPTS,
      maxTotalMs: e.GSMS_RETRY_MAX_TOTAL_MS,
    },
    recordRetentionMs: e.GSMS_RECORD_RETENTION_MS,
    pollMaxBackoffMs: e.GSMS_POLL_MAX_BACKOFF_MS,
    embeddedEmulator,
    security: securityConfig(e),
    operating: operatingConfig(e),
    webhooks: webhookConfig(e),
    redis:
      topology && credentialKey
        ? {
            topology,
            keyPrefix: e.REDIS_KEY_PREFIX,
            commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
            pollLeaseMs: e.GSMS_POLL_LEASE_MS,
            credentialKey,
          }
        : undefined,
  };
}
