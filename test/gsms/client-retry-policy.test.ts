/** The GSMS client's retry decisions, as pure functions: Retry-After, backoff with jitter, and the bounds. */
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, decideRetry, parseRetryAfterMs, resolveRetryPolicy } from '../../src/gsms/retry-policy.js';

const policy = resolveRetryPolicy({ maxAttempts: 5, maxTotalMs: 10_000, minDelayMs: 100, maxDelayMs: 2_000 });
const NOW = Date.UTC(2026, 10, 3, 12, 0, 0);

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates; a past date means now; anything else is ignored', () => {
    expect(parseRetryAfterMs('1', NOW)).toBe(1_000);
    expect(parseRetryAfterMs(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfterMs(['2'], NOW)).toBe(2_000);
    expect(parseRetryAfterMs(new Date(NOW + 3_000).toUTCString(), NOW)).toBe(3_000);
    expect(parseRetryAfterMs(new Date(NOW - 3_000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfterMs(undefined, NOW)).toBeNull();
    expect(parseRetryAfterMs('', NOW)).toBeNull();
    expect(parseRetryAfterMs('soon', NOW)).toBeNull();
    expect(parseRetryAfterMs('-1', NOW)).toBeNull();
  });
});

describe('backoff', () => {
  it('doubles a ceiling per retry up to maxDelayMs and draws the wait from its upper half', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1_600, 2_000]);
    expect([1, 2, 3, 6].map((n) => backoffDelayMs(n, policy, () => 0))).toEqual([50, 100, 200, 1_000]);
  });
});

describe('decideRetry', () => {
  const decide = (failure: Parameters<typeof decideRetry>[0], failedAttempts = 1, elapsedMs = 0, method = 'POST') =>
    decideRetry(failure, { failedAttempts, elapsedMs, method }, policy, () => 1, NOW);

  it.each([408, 429, 500, 502, 503, 504])('retries status %i', (statusCode) => {
    expect(decide({ statusCode })).toEqual({ retry: true, delayMs: 100, reason: `status ${statusCode}` });
  });

  it.each([400, 401, 403, 404, 409, 501])('never retries status %i', (statusCode) => {
    expect(decide({ statusCode })).toMatchObject({ retry: false });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])(
    'retries network failure %s',
    (code) => {
      expect(decide({ code })).toMatchObject({ retry: true, reason: code });
    },
  );

  it('does not retry unknown errors or other methods', () => {
    expect(decide({ code: 'UND_ERR_INVALID_ARG' })).toMatchObject({ retry: false });
    expect(decide({})).toMatchObject({ retry: false });
    expect(decide({ statusCode: 503 }, 1, 0, 'GET')).toMatchObject({ retry: false });
  });

  it('stops after maxAttempts tries', () => {
    expect(decide({ statusCode: 503 }, 4)).toMatchObject({ retry: true });
    expect(decide({ statusCode: 503 }, 5)).toMatchObject({ retry: false, reason: 'status 503 after 5 attempts' });
  });

  it('lets Retry-After win over backoff, capped at maxDelayMs', () => {
    expect(decide({ statusCode: 429, headers: { 'retry-after': '1' } })).toMatchObject({ retry: true, delayMs: 1_000 });
    expect(decide({ statusCode: 429, headers: { 'retry-after': '0' } })).toMatchObject({ retry: true, delayMs: 0 });
    expect(decide({ statusCode: 503, headers: { 'retry-after': '60' } })).toMatchObject({ retry: true, delayMs: 2_000 });
  });

  it('stops when the wait would end past maxTotalMs', () => {
    expect(decide({ statusCode: 503 }, 1, 9_800)).toMatchObject({ retry: true, delayMs: 100 });
    expect(decide({ statusCode: 503 }, 1, 9_950)).toMatchObject({ retry: false });
    expect(decide({ statusCode: 503, headers: { 'retry-after': '1' } }, 1, 9_500)).toMatchObject({ retry: false });
  });
});
