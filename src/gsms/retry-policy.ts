/**
 * When to ask GSMS again, and how long to wait first. Pure functions: the client plugs `decideRetry` into
 * undici's retry interceptor as its `retry` callback, and undici does the re-dispatch and body replay.
 *
 * undici's default strategy is not used because it has no jitter and no total-time limit (and, in v7, reads
 * `Retry-After` uncapped by any deadline); its function sits behind a symbol, so the checks it makes on
 * status, error code, method and attempt count are repeated here.
 */
import { RETRYABLE_STATUSES } from './errors.js';

export interface RetryPolicy {
  /** Total tries, the first one included. */
  maxAttempts: number;
  /** No retry is scheduled whose wait would end later than this after the call started. */
  maxTotalMs: number;
  /** Backoff ceiling before the first retry; it doubles with each retry. */
  minDelayMs: number;
  /** Longest single wait, `Retry-After` included. */
  maxDelayMs: number;
}

/**
 * 12 tries let 40 of 40 calls through a 40% fault rate: a call fails there with 0.4^12 ≈ 0.002%, so one of
 * 40 with 0.07% (docs/decisions.md, "Retries", asks for at least 10, where one of 40 fails 0.4% of the time, which CI saw).
 * 30 s keeps a GraphQL mutation from hanging much longer than a player would wait.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = { maxAttempts: 12, maxTotalMs: 30_000, minDelayMs: 100, maxDelayMs: 5_000 };

/**
 * Failures without an answer that are worth another try. Retrying the POST after a timeout is safe because
 * GSMS's POST is idempotent per `sessionId` (a repeat answers the same request's state).
 */
export const RETRYABLE_ERROR_CODES: readonly string[] = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
];

/** Fills in the defaults and rejects settings that would make the policy meaningless. */
export function resolveRetryPolicy(options: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(options) };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new RangeError('retry.maxAttempts must be an integer >= 1');
  for (const key of ['maxTotalMs', 'minDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) throw new RangeError(`retry.${key} must be a number >= 0`);
  }
  if (policy.minDelayMs > policy.maxDelayMs) throw new RangeError('retry.minDelayMs must not exceed retry.maxDelayMs');
  return policy;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Milliseconds a `Retry-After` value asks for: delay-seconds or an HTTP date; `null` when absent or unreadable.
 * A date in the past means "now" (0).
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number = Date.now()): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date names its day and month; without letters, Date.parse would read "-1" as a year.
  const date = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/**
 * Exponential backoff with equal jitter: the ceiling doubles per retry (capped at `maxDelayMs`) and the wait
 * is drawn from [ceiling/2, ceiling]. Half is fixed so a retry never comes back at once; the random half
 * spreads out callers that failed together.
 */
export function backoffDelayMs(failedAttempts: number, policy: Pick<RetryPolicy, 'minDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** What went wrong with one attempt, as undici reports it to the retry callback. */
export interface AttemptFailure {
  /** HTTP status when GSMS answered (undici's `RequestRetryError`), else undefined. */
  statusCode?: number;
  /** Node or undici error code when there was no answer. */
  code?: string;
  headers?: Record<string, string | string[] | undefined>;
}

export type RetryDecision = { retry: true; delayMs: number; reason: string } | { retry: false; reason: string };

/**
 * Whether to try again after `failedAttempts` tries that took `elapsedMs` so far, and after how long.
 * `Retry-After` wins over backoff, capped at `maxDelayMs`; a wait that would end past `maxTotalMs` stops.
 */
export function decideRetry(
  failure: AttemptFailure,
  progress: { failedAttempts: number; elapsedMs: number; method?: string },
  policy: RetryPolicy,
  random: () => number = Math.random,
  nowMs: number = Date.now(),
): RetryDecision {
  const reason = failure.statusCode !== undefined ? `status ${failure.statusCode}` : (failure.code ?? 'unknown error');
  if (progress.method !== undefined && progress.method !== 'POST') return { retry: false, reason: `${reason}, method ${progress.method} is not retried` };
  const retryable = failure.statusCode !== undefined ? RETRYABLE_STATUSES.includes(failure.statusCode) : failure.code !== undefined && RETRYABLE_ERROR_CODES.includes(failure.code);
  if (!retryable) return { retry: false, reason: `${reason} is not retryable` };
  if (progress.failedAttempts >= policy.maxAttempts) return { retry: false, reason: `${reason} after ${progress.failedAttempts} attempts` };
  const retryAfterMs = parseRetryAfterMs(failure.headers?.['retry-after'], nowMs);
  const delayMs = retryAfterMs !== null ? Math.min(retryAfterMs, policy.maxDelayMs) : backoffDelayMs(progress.failedAttempts, policy, random);
  if (progress.elapsedMs + delayMs >= policy.maxTotalMs) return { retry: false, reason: `${reason}, next try would pass the ${policy.maxTotalMs} ms limit` };
  return { retry: true, delayMs, reason };
}
