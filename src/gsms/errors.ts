/**
 * What can go wrong with a GSMS call, as the rest of the gateway needs to know it.
 * The resolvers map `code` onto GraphQL `extensions.code`.
 */
export type GsmsErrorCode =
  | 'UNAUTHENTICATED' // 401: missing or malformed credential
  | 'FORBIDDEN' // 403: the caller may not use this title
  | 'BAD_USER_INPUT' // 400: GSMS rejected the request body or title
  | 'UPSTREAM_UNAVAILABLE' // retryable status after the last try, timeout or network failure
  | 'UPSTREAM_ERROR'; // any other status, or an answer we cannot read

export class GsmsError extends Error {
  override readonly name = 'GsmsError';
  readonly code: GsmsErrorCode;
  /** HTTP status of the last answer, when there was one. */
  readonly status: number | undefined;
  /** `X-XblCorrelationId` of the last answer, for tracing the call in GSMS. */
  readonly correlationId: string | undefined;

  constructor(code: GsmsErrorCode, message: string, details: { status?: number; correlationId?: string; cause?: unknown } = {}) {
    super(message, { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.correlationId = details.correlationId;
  }

  /** Whether asking again later may succeed (the poller keeps going on these). */
  get retryable(): boolean {
    return this.code === 'UPSTREAM_UNAVAILABLE' || this.code === 'UPSTREAM_ERROR';
  }
}

/** The statuses the spec says a caller should retry. */
export const RETRYABLE_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504];

/** Maps a final (non-2xx) HTTP status to an error code, per the spec's retry and auth rules. */
export function codeForStatus(status: number): GsmsErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 400) return 'BAD_USER_INPUT';
  if (RETRYABLE_STATUSES.includes(status)) return 'UPSTREAM_UNAVAILABLE';
  return 'UPSTREAM_ERROR';
}
