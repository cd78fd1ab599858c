/**
 * The emulator's knobs and how they are read from the environment. Both `npm run emulator` (main.ts) and the
 * gateway's config (which starts an embedded emulator when no upstream is configured) read them here, so the
 * two agree on names, defaults and bounds.
 */
import { z } from 'zod';
import { parseTitleId } from '../title-id.js';

export interface EmulatorOptions {
  /** Clusters that can run at once per title. 0 queues every request (handy in tests). */
  capacity: number;
  /** How long a cluster lives before its capacity frees and its session forgets its request. */
  clusterLifetimeMs: number;
  /** The `pollIntervalMilliseconds` the emulator advises. */
  pollIntervalMs: number;
  /** Share (0–1) of eligible answers replaced by a random retryable status. */
  faultRate: number;
  /** Title ids (decimal) whose callers get 403. */
  deniedTitles: readonly string[];
}

export const DEFAULT_EMULATOR_OPTIONS: EmulatorOptions = Object.freeze({
  capacity: 2,
  clusterLifetimeMs: 30_000,
  pollIntervalMs: 1000,
  faultRate: 0,
  deniedTitles: Object.freeze([]),
});

/** Longest delay `setTimeout` honours; a larger one silently fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

const titleIdSchema = z.string().transform((text, ctx) => {
  const titleId = parseTitleId(text.trim());
  if (titleId === null) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${text}" is not a title id (uint32, decimal or 0x hex)` });
    return z.NEVER;
  }
  return titleId;
});

/** Validates options given in code (startEmulator); denied titles come out in decimal. */
export const emulatorOptionsSchema = z.object({
  capacity: z.number().int().min(0).max(1_000_000),
  clusterLifetimeMs: z.number().int().min(1).max(MAX_TIMER_MS),
  pollIntervalMs: z.number().int().min(0).max(MAX_TIMER_MS),
  faultRate: z.number().min(0).max(1),
  deniedTitles: z.array(titleIdSchema),
});

// An empty variable (`GSMS_EMULATOR_PORT=`) means "use the default", as shells and .env files tend to leave them.
const blankToUndefined = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const envInteger = (min: number, max: number, fallback: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

/** The environment schema; `defaultPort` lets the embedded emulator default to a free port (0) instead. */
export function emulatorEnvSchema(defaultPort = 4100) {
  const defaults = DEFAULT_EMULATOR_OPTIONS;
  return z.object({
    GSMS_EMULATOR_PORT: envInteger(0, 65_535, defaultPort),
    GSMS_EMULATOR_HOST: z.preprocess(blankToUndefined, z.string().trim().default('127.0.0.1')),
    GSMS_EMULATOR_CAPACITY: envInteger(0, 1_000_000, defaults.capacity),
    GSMS_EMULATOR_CLUSTER_LIFETIME_MS: envInteger(1, MAX_TIMER_MS, defaults.clusterLifetimeMs),
    GSMS_EMULATOR_POLL_INTERVAL_MS: envInteger(0, MAX_TIMER_MS, defaults.pollIntervalMs),
    GSMS_EMULATOR_FAULT_RATE: z.preprocess(blankToUndefined, z.coerce.number().min(0).max(1).default(defaults.faultRate)),
    GSMS_EMULATOR_DENIED_TITLES: z.preprocess(
      blankToUndefined,
      z
        .string()
        .default('')
        .transform((list) => list.split(',').map((id) => id.trim()).filter((id) => id !== ''))
        .pipe(z.array(titleIdSchema)),
    ),
  });
}

/** Thrown on a bad emulator variable; the message names every bad variable and what it got. */
export class EmulatorConfigError extends Error {
  override readonly name = 'EmulatorConfigError';
}

export interface EmulatorEnvConfig {
  port: number;
  host: string;
  options: EmulatorOptions;
}

/** Reads the `GSMS_EMULATOR_*` variables; throws `EmulatorConfigError` when one is invalid. */
export function emulatorOptionsFromEnv(
  env: Record<string, string | undefined>,
  { defaultPort = 4100 }: { defaultPort?: number } = {},
): EmulatorEnvConfig {
  const result = emulatorEnvSchema(defaultPort).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
    });
    throw new EmulatorConfigError(`Invalid emulator configuration:\n  ${problems.join('\n  ')}`);
  }
  const env_ = result.data;
  return {
    port: env_.GSMS_EMULATOR_PORT,
    host: env_.GSMS_EMULATOR_HOST,
    options: {
      capacity: env_.GSMS_EMULATOR_CAPACITY,
      clusterLifetimeMs: env_.GSMS_EMULATOR_CLUSTER_LIFETIME_MS,
      pollIntervalMs: env_.GSMS_EMULATOR_POLL_INTERVAL_MS,
      faultRate: env_.GSMS_EMULATOR_FAULT_RATE,
      deniedTitles: env_.GSMS_EMULATOR_DENIED_TITLES,
    },
  };
}
