/**
 * The webhook settings, parsed by server/config.ts with the rest of the environment (its zod object spreads
 * `webhookEnv`); README "Webhooks" lists each variable.
 */
import { z } from 'zod';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from './retry-schedule.js';
import type { WebhookConfig } from './webhook-service.js';

export const webhookEnv = {
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default(DEFAULT_RETRY_SCHEDULE)
    .transform((value, ctx) => {
      const waits = parseRetrySchedule(value);
      if (waits === null || waits.length > 50) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be up to 50 comma-separated waits with units ms|s|m|h, e.g. 5s,5m,30m' });
        return z.NEVER;
      }
      return waits;
    }),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z
    .string()
    .default('false')
    .transform((value, ctx) => {
      const word = value.trim().toLowerCase();
      if (['true', '1', 'on', 'yes'].includes(word)) return true;
      if (['false', '0', 'off', 'no'].includes(word)) return false;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be true or false' });
      return z.NEVER;
    }),
};

const webhookObject = z.object(webhookEnv);

export function webhookConfig(e: z.infer<typeof webhookObject>): WebhookConfig {
  return { timeoutMs: e.WEBHOOK_TIMEOUT_MS, retrySchedule: e.WEBHOOK_RETRY_SCHEDULE, allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS };
}
