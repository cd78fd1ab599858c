/**
 * The operating settings: whether `/metrics` and `/dashboard` are served, and how long the upstream
 * readiness check waits. Parsed by server/config.ts with the rest of the environment (its zod object
 * spreads `operatingEnv`); README "Configuration" lists each variable.
 */
import { z } from 'zod';

const switchedOn = (fallback: boolean) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      const word = value.trim().toLowerCase();
      if (['true', '1', 'on', 'yes'].includes(word)) return true;
      if (['false', '0', 'off', 'no'].includes(word)) return false;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be true or false' });
      return z.NEVER;
    });

export const operatingEnv = {
  METRICS: switchedOn(true),
  DASHBOARD: switchedOn(true),
  READY_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
};

const operatingObject = z.object(operatingEnv);

export interface OperatingConfig {
  /** Serve `GET /metrics`; metrics are still counted when off. */
  metrics: boolean;
  /** Serve `GET /dashboard`. */
  dashboard: boolean;
  /** How long `GET /ready` waits for a TCP connection to GSMS. */
  readyUpstreamTimeoutMs: number;
}

export function operatingConfig(e: z.infer<typeof operatingObject>): OperatingConfig {
  return { metrics: e.METRICS, dashboard: e.DASHBOARD, readyUpstreamTimeoutMs: e.READY_UPSTREAM_TIMEOUT_MS };
}
