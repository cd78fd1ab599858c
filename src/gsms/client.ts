/**
 * The GSMS client: `POST {base}/titles/{titleId}/clusters` over an undici keep-alive pool, retried by
 * undici's retry interceptor, answered as a typed `ClusterAnswer` or a `GsmsError` (never anything else).
 *
 * The dispatcher chain, outermost first: retry interceptor (re-dispatches and replays the string body; our
 * `retry` callback only decides whether and when, see retry-policy.ts) → attempt tracing (logs and
 * observer hooks, once per HTTP attempt) → the pool, or an injected dispatcher such as a `MockAgent`.
 *
 * The `Authorization` value is a secret: it is sent and nothing else. No log line, error message or
 * observer call includes it, nor the request options that hold it.
 */
import { Pool, interceptors, errors, type Dispatcher, type RetryHandler } from 'undici';
import packageJson from '../../package.json' with { type: 'json' };
import { CallTrace, dispatchAttempt, headerValue, traceAttempts, traceOf, type AttemptInfo } from './attempt-trace.js';
import { GsmsError, RETRYABLE_STATUSES, codeForStatus } from './errors.js';
import { RETRYABLE_ERROR_CODES, decideRetry, resolveRetryPolicy, type RetryPolicy } from './retry-policy.js';
import { parseClusterAnswer, type ClusterAnswer } from './wire.js';

export interface ClusterRequest {
  /** Decimal uint32, already validated and normalised by the caller. */
  titleId: string;
  /** Canonical session path, already validated by the caller. */
  sessionId: string;
  abortIfQueued: boolean;
  /** The caller's `XBL3.0 x=…;…` header value, forwarded as is. Secret: never logged or echoed. */
  authorization: string;
  signal?: AbortSignal;
}

export interface GsmsClientOptions {
  /** e.g. `https://gameserverms.xboxlive.com` or `http://127.0.0.1:4100`; may carry a path prefix. */
  baseUrl: string;
  /** Default `gsms-graphql/<package version>`. */
  userAgent?: string;
  /** Keep-alive pool size, default 64. */
  connections?: number;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** Default 10000. */
  headersTimeoutMs?: number;
  /** Default 10000. */
  bodyTimeoutMs?: number;
  /** Defaults in retry-policy.ts: 12 attempts (the first included), 30000 ms in all, waits of 100 ms to 5000 ms. */
  retry?: Partial<RetryPolicy>;
  /** Injected for unit tests (a `MockAgent`); the interceptors are composed on top of it and `close()` leaves it open. */
  dispatcher?: Dispatcher;
  /** pino-compatible. */
  logger?: { debug(obj: object, msg: string): void; warn(obj: object, msg: string): void; isLevelEnabled?(level: string): boolean };
  /** Metrics hooks: `onAttempt` once per HTTP attempt, `onRetry` once per retry scheduled. */
  observer?: {
    onAttempt?(info: AttemptInfo): void;
    onRetry?(info: { attempt: number; delayMs: number; reason: string }): void;
  };
}

export interface GsmsClient {
  /** Asks GSMS for a cluster for one session. Throws `GsmsError` only. */
  requestCluster(request: ClusterRequest): Promise<ClusterAnswer>;
  /** Closes the connection pool (not an injected dispatcher). */
  close(): Promise<void>;
}

const CORRELATION_HEADER = 'x-xblcorrelationid';

export function createGsmsClient(options: GsmsClientOptions): GsmsClient {
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError('GSMS base URL must be http or https');
  const origin = base.origin;
  const pathPrefix = base.pathname.replace(/\/+$/, '');
  const policy = resolveRetryPolicy(options.retry);
  const userAgent = options.userAgent ?? `gsms-graphql/${packageJson.version}`;
  const { logger, observer } = options;

  const pool: Pool | null = options.dispatcher
    ? null
    : new Pool(origin, {
        connections: options.connections ?? 64,
        connect: { timeout: options.connectTimeoutMs ?? 5_000 },
        headersTimeout: options.headersTimeoutMs ?? 10_000,
        bodyTimeout: options.bodyTimeoutMs ?? 10_000,
      });

  // Debug lines are built only when they will be written: an attempt and an answer per poll otherwise
  // allocate two objects each for nothing.
  const debugOn = logger !== undefined && (logger.isLevelEnabled?.('debug') ?? true);
  const reportAttempt = (trace: CallTrace, info: AttemptInfo): void => {
    if (debugOn) logger.debug({ titleId: trace.titleId, ...info }, 'GSMS attempt');
    if (observer?.onAttempt) notify(observer, observer.onAttempt, info);
  };

  const retry: RetryHandler.RetryCallback = (error, { state, opts }, callback) => {
    const trace = traceOf(opts);
    if (!trace || trace.delivered) return callback(error);
    const failure = error as Error & { statusCode?: unknown; code?: unknown; headers?: Record<string, string | string[] | undefined> };
    const decision = decideRetry(
      {
        statusCode: typeof failure.statusCode === 'number' ? failure.statusCode : undefined,
        code: typeof failure.code === 'string' ? failure.code : undefined,
        headers: failure.headers,
      },
      { failedAttempts: Math.max(trace.attempts, state.counter), elapsedMs: trace.elapsedMs, method: opts.method },
      policy,
    );
    if (!decision.retry) return callback(error);
    announceRetry(trace, decision);
    trace.waitThenRetry(decision.delayMs, callback);
  };

  const announceRetry = (trace: CallTrace, decision: { delayMs: number; reason: string }): void => {
    const attempt = trace.attempts;
    if (observer?.onRetry) notify(observer, observer.onRetry, { attempt, delayMs: decision.delayMs, reason: decision.reason });
    logger?.warn(
      { titleId: trace.titleId, attempt, delayMs: decision.delayMs, reason: decision.reason, correlationId: trace.lastCorrelationId },
      'GSMS attempt failed; retrying',
    );
  };

  const dispatcher = (options.dispatcher ?? pool!).compose(
    traceAttempts(reportAttempt),
    interceptors.retry({
      // undici itself reads `statusCodes`: an answer with one of these goes to `retry`, any other to the caller.
      statusCodes: [...RETRYABLE_STATUSES],
      // undici's defaults leave out POST and 408; `decideRetry` checks these lists again, since only
      // undici's default strategy (replaced by `retry`) reads `methods`, `errorCodes` and the numbers below.
      methods: ['POST'],
      errorCodes: [...RETRYABLE_ERROR_CODES],
      maxRetries: policy.maxAttempts - 1,
      minTimeout: policy.minDelayMs,
      maxTimeout: policy.maxDelayMs,
      // A retryable answer never reaches us: undici reads and drops its body (the socket stays in the pool)
      // and, once `retry` gives up, rejects with a RequestRetryError that keeps the status and headers.
      throwOnError: true,
      retry,
    }),
  );

  // The total-time bound also cuts an attempt in flight, so a caller never waits much past maxTotalMs. One
  // sweep over the calls in flight rather than a timer and an AbortController per call: this is the poller's
  // hot path, and almost every call ends long before its deadline.
  const inFlight = new Set<CallTrace>();
  const deadlines = setInterval(() => {
    const now = performance.now();
    for (const trace of inFlight) if (now >= trace.deadlineAt) trace.abort(new Error('GSMS deadline'));
  }, Math.max(10, Math.min(100, policy.maxTotalMs / 10))).unref();

  async function requestCluster(request: ClusterRequest): Promise<ClusterAnswer> {
    const trace = new CallTrace(request.titleId, performance.now() + policy.maxTotalMs);
    const { signal } = request;
    if (signal?.aborted) trace.abort(abortReason(signal));
    const cancellable = signal ? callsCancelledBy(signal) : undefined;
    cancellable?.add(trace);
    inFlight.add(trace);
    try {
      const answer = await send(request, trace);
      if (debugOn) logger.debug(
        { titleId: request.titleId, state: answer.state, attempts: trace.attempts, durationMs: Math.round(trace.elapsedMs), correlationId: answer.correlationId },
        'GSMS answered',
      );
      return answer;
    } catch (error) {
      const cancelled = request.signal?.aborted === true;
      const failure = toGsmsError(error, trace, cancelled);
      const upstreamFault = !cancelled && (failure.code === 'UPSTREAM_UNAVAILABLE' || failure.code === 'UPSTREAM_ERROR');
      const log = upstreamFault ? logger?.warn : logger?.debug;
      log?.call(
        logger,
        { titleId: request.titleId, code: failure.code, status: failure.status, correlationId: failure.correlationId, attempts: trace.attempts, durationMs: Math.round(trace.elapsedMs) },
        'GSMS call failed',
      );
      throw failure;
    } finally {
      inFlight.delete(trace);
      cancellable?.delete(trace);
    }
  }

  /**
   * The first attempt goes to the pool directly, past the retry interceptor and the attempt tracer: on the
   * poller's hot path nearly every call is one attempt, and those two layers (a handler each, and headers
   * converted between undici's two handler APIs and parsed again) were a fifth of a poll's CPU. Only when it
   * fails retryably does the call continue through the interceptor, which does every later attempt. Only
   * where the first attempt cannot outlive the call's deadline (its own timeouts fit in maxTotalMs), since
   * nothing can cut it short; and not on an injected dispatcher (the unit tests' MockAgent drives the
   * interceptor path).
   */
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const directFirstAttempt = pool !== null && policy.maxTotalMs >= connectTimeoutMs + headersTimeoutMs + bodyTimeoutMs;

  async function send(request: ClusterRequest, trace: CallTrace): Promise<ClusterAnswer> {
    if (trace.abortReason) throw trace.abortReason;
    const requestOptions: Dispatcher.RequestOptions<CallTrace> = {
      origin,
      method: 'POST',
      path: `${pathPrefix}/titles/${encodeURIComponent(request.titleId)}/clusters`,
      // Host and Content-Length come from undici (the origin, and the string body's length).
      headers: {
        'User-Agent': userAgent,
        'Content-Type': 'application/json',
        'x-xbl-contract-version': '1',
        Authorization: request.authorization,
      },
      // As XSAPI does: a JSON boolean, and no member at all when false.
      body: JSON.stringify(request.abortIfQueued ? { sessionId: request.sessionId, abortIfQueued: true } : { sessionId: request.sessionId }),
      opaque: trace,
    };
    let response = directFirstAttempt ? await firstAttempt(requestOptions, trace) : null;
    if (response === null) {
      if (trace.abortReason) throw trace.abortReason;
      response = await dispatcher.request(requestOptions);
    }
    return answerOf(request, response);
  }

  /** Attempt 1 straight to the pool: its answer, or null once a retry is due (the wait is over by then). */
  async function firstAttempt(requestOptions: Dispatcher.RequestOptions<CallTrace>, trace: CallTrace): Promise<Dispatcher.ResponseData<CallTrace> | null> {
    trace.attempts = 1;
    const startedAt = performance.now();
    const durationMs = () => Math.round(performance.now() - startedAt);
    let response: Dispatcher.ResponseData<CallTrace>;
    try {
      response = await dispatchAttempt(1, () => pool!.request(requestOptions));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      reportAttempt(trace, { status: null, attempt: 1, durationMs: durationMs(), correlationId: null, errorCode: typeof code === 'string' ? code : (error as Error).name });
      if (await retryAfterFirst(trace, { code: typeof code === 'string' ? code : undefined })) return null;
      throw error;
    }
    const { statusCode, headers } = response;
    const correlationId = headerValue(headers[CORRELATION_HEADER]);
    if (correlationId !== null) trace.lastCorrelationId = correlationId;
    reportAttempt(trace, { status: statusCode, attempt: 1, durationMs: durationMs(), correlationId });
    if (!RETRYABLE_STATUSES.includes(statusCode)) return response;
    await response.body.dump().catch(() => undefined);
    if (await retryAfterFirst(trace, { statusCode, headers })) return null;
    // As the interceptor's give-up reads once toGsmsError maps it.
    throw new GsmsError(codeForStatus(statusCode), `GSMS answered ${statusCode} after 1 attempt`, { status: statusCode, correlationId: correlationId ?? undefined });
  }

  /** Whether the policy retries after the first attempt failed so; if so, waits the delay first. */
  async function retryAfterFirst(trace: CallTrace, failure: { statusCode?: number; code?: string; headers?: Record<string, string | string[] | undefined> }): Promise<boolean> {
    const decision = decideRetry(failure, { failedAttempts: 1, elapsedMs: trace.elapsedMs, method: 'POST' }, policy);
    if (!decision.retry || trace.abortReason) return false;
    announceRetry(trace, decision);
    await new Promise<void>((resolve, reject) => trace.waitThenRetry(decision.delayMs, (reason) => (reason ? reject(reason) : resolve())));
    return true;
  }

  async function answerOf(request: ClusterRequest, response: Dispatcher.ResponseData<CallTrace>): Promise<ClusterAnswer> {
    const { statusCode: status } = response;
    const correlationId = headerValue(response.headers[CORRELATION_HEADER]);
    if (status < 200 || status >= 300) {
      await response.body.dump().catch(() => undefined);
      throw new GsmsError(codeForStatus(status), `GSMS answered ${status} to a cluster request for title ${request.titleId}`, {
        status,
        correlationId: correlationId ?? undefined,
      });
    }
    const text = await response.body.text();
    if (text.trim() === '') throw new GsmsError('UPSTREAM_ERROR', `GSMS answered ${status} with an empty body`, { status, correlationId: correlationId ?? undefined });
    try {
      return parseClusterAnswer(text, correlationId);
    } catch (error) {
      if (!(error instanceof GsmsError)) throw error;
      throw new GsmsError(error.code, error.message, { status, correlationId: error.correlationId, cause: error });
    }
  }

  /** Maps whatever `send` threw to a GsmsError whose message carries only our own words, codes and statuses. */
  function toGsmsError(error: unknown, trace: CallTrace, cancelledByCaller: boolean): GsmsError {
    if (error instanceof GsmsError) return error;
    const attempts = `${trace.attempts} attempt${trace.attempts === 1 ? '' : 's'}`;
    if (error instanceof errors.RequestRetryError) {
      const correlationId = headerValue(error.headers[CORRELATION_HEADER]) ?? trace.lastCorrelationId ?? undefined;
      return new GsmsError(codeForStatus(error.statusCode), `GSMS answered ${error.statusCode} after ${attempts}`, { status: error.statusCode, correlationId, cause: error });
    }
    const details = { correlationId: trace.lastCorrelationId ?? undefined, cause: error };
    if (cancelledByCaller) return new GsmsError('UPSTREAM_UNAVAILABLE', `GSMS call cancelled by the caller after ${attempts}`, details);
    if (trace.abortReason) return new GsmsError('UPSTREAM_UNAVAILABLE', `GSMS gave no usable answer within ${policy.maxTotalMs} ms (${attempts})`, details);
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && RETRYABLE_ERROR_CODES.includes(code)) {
      return new GsmsError('UPSTREAM_UNAVAILABLE', `GSMS could not be reached (${code}) after ${attempts}`, details);
    }
    return new GsmsError('UPSTREAM_ERROR', `GSMS call failed (${typeof code === 'string' ? code : 'unexpected error'})`, details);
  }

  let closing: Promise<void> | undefined;
  return {
    requestCluster,
    close: () => {
      clearInterval(deadlines);
      return (closing ??= pool ? pool.close() : Promise.resolve());
    },
  };
}

/** Runs a metrics hook; one that throws must not break the call (it runs inside undici's handlers). */
function notify<T>(observer: object, hook: (info: T) => void, info: T): void {
  try {
    hook.call(observer, info);
  } catch {
    // Ignored on purpose: metrics are best effort.
  }
}

/**
 * The calls a caller's signal cancels. One listener per signal, not one per call: the poller passes the same
 * signal with every post, and an EventTarget listener added and removed per post was a measurable share of one.
 */
const callsBySignal = new WeakMap<AbortSignal, Set<CallTrace>>();
function callsCancelledBy(signal: AbortSignal): Set<CallTrace> {
  let calls = callsBySignal.get(signal);
  if (!calls) {
    const cancelled = new Set<CallTrace>();
    signal.addEventListener('abort', () => {
      for (const trace of cancelled) trace.abort(abortReason(signal));
    }, { once: true });
    callsBySignal.set(signal, (calls = cancelled));
  }
  return calls;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
