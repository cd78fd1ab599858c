/**
 * One GSMS call seen attempt by attempt. undici's retry interceptor re-dispatches each try through the
 * interceptors composed below it, so a small interceptor there sees every attempt: its status, timing and
 * correlation id. The call's `CallTrace` travels with the request as undici's `opaque`, which the retry
 * handler carries over to every re-dispatch and hands to the retry callback.
 */
import type { Dispatcher } from 'undici';
import { RETRYABLE_STATUSES } from './errors.js';

export interface AttemptInfo {
  status: number | null;
  attempt: number;
  durationMs: number;
  correlationId: string | null;
  errorCode?: string;
}

/**
 * The state of one `requestCluster` call across its attempts, and the way to cut it short. No AbortSignal:
 * a call is cut by aborting the attempt in flight (undici's controller for it) or ending the wait between
 * attempts, which costs nothing on the happy path, where a signal costs a listener per call and layer.
 */
export class CallTrace {
  readonly startedAt = performance.now();
  /** Attempts dispatched so far. */
  attempts = 0;
  /** `X-XblCorrelationId` of the latest answer that had one. */
  lastCorrelationId: string | null = null;
  /**
   * Set once an answer went to the caller (undici forwards every status it does not retry): an error in its
   * body must not start another try, which undici would otherwise attempt as a `Range` resume.
   */
  delivered = false;
  /** Why the call was cut short (the caller cancelled it, or the total-time deadline passed), once it was. */
  abortReason: Error | undefined;
  /** The attempt in flight, to abort when the call is cut. */
  attemptInFlight: Dispatcher.DispatchController | undefined;
  /** Ends the wait before the next attempt early, when the call is cut meanwhile. */
  #wake: (() => void) | undefined;

  constructor(
    readonly titleId: string,
    /** When the call's total time runs out (`performance.now()` clock). */
    readonly deadlineAt: number,
  ) {}

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.attemptInFlight?.abort(reason);
    this.#wake?.();
  }

  /** Waits `delayMs` before the next attempt; `then(reason)` with the abort reason if the call is cut meanwhile. */
  waitThenRetry(delayMs: number, then: (reason: Error | null) => void): void {
    if (this.abortReason) return then(this.abortReason);
    const timer = setTimeout(() => {
      this.#wake = undefined;
      then(null);
    }, delayMs);
    this.#wake = () => {
      clearTimeout(timer);
      this.#wake = undefined;
      then(this.abortReason ?? new Error('aborted'));
    };
  }
}

/** The trace a request carries, if any. */
export function traceOf(opts: object): CallTrace | undefined {
  const { opaque } = opts as { opaque?: unknown };
  return opaque instanceof CallTrace ? opaque : undefined;
}

export function headerValue(value: string | string[] | undefined): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? null : first;
}

let dispatching = 0;

/**
 * The number of the attempt being handed to the dispatcher right now, 0 outside one. undici creates the
 * attempt's request synchronously inside that call, so the tracing that hears of the request reads it
 * (src/server/tracing/upstream-spans.ts).
 */
export function attemptInDispatch(): number {
  return dispatching;
}

/** Runs `dispatch` (which creates the attempt's undici request synchronously) as attempt number `attempt`. */
export function dispatchAttempt<T>(attempt: number, dispatch: () => T): T {
  dispatching = attempt;
  try {
    return dispatch();
  } finally {
    dispatching = 0;
  }
}

/** An interceptor that reports each attempt of a traced request once, when its answer starts or it fails. */
export function traceAttempts(report: (trace: CallTrace, info: AttemptInfo) => void): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const trace = traceOf(opts);
    if (!trace) return dispatch(opts, handler);
    const attemptHandler = new AttemptHandler(trace, handler, report);
    return dispatchAttempt(trace.attempts, () => dispatch(opts, attemptHandler));
  };
}

type Handler = Required<Dispatcher.DispatchHandler>;

class AttemptHandler implements Dispatcher.DispatchHandler {
  readonly #attempt: number;
  readonly #startedAt = performance.now();
  #reported = false;

  constructor(
    private readonly trace: CallTrace,
    private readonly handler: Dispatcher.DispatchHandler,
    private readonly report: (trace: CallTrace, info: AttemptInfo) => void,
  ) {
    this.#attempt = ++trace.attempts;
  }

  #once(status: number | null, correlationId: string | null, errorCode?: string): void {
    if (this.#reported) return;
    this.#reported = true;
    const durationMs = Math.round(performance.now() - this.#startedAt);
    this.report(this.trace, errorCode === undefined ? { status, attempt: this.#attempt, durationMs, correlationId } : { status, attempt: this.#attempt, durationMs, correlationId, errorCode });
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.trace.attemptInFlight = controller;
    this.handler.onRequestStart?.(controller, context);
    // Cut while this attempt waited in the pool: abort it now that it can be.
    if (this.trace.abortReason) controller.abort(this.trace.abortReason);
  }

  onRequestUpgrade(...args: Parameters<Handler['onRequestUpgrade']>): void {
    this.handler.onRequestUpgrade?.(...args);
  }

  onResponseStart(...[controller, statusCode, headers, statusMessage]: Parameters<Handler['onResponseStart']>): void {
    if (statusCode >= 200) {
      const correlationId = headerValue(headers['x-xblcorrelationid']);
      if (correlationId !== null) this.trace.lastCorrelationId = correlationId;
      if (!RETRYABLE_STATUSES.includes(statusCode)) this.trace.delivered = true;
      this.#once(statusCode, correlationId);
    }
    this.handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(...[controller, trailers]: Parameters<Handler['onResponseEnd']>): void {
    this.handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#once(null, null, (error as { code?: string }).code ?? error.name);
    this.handler.onResponseError?.(controller, error);
  }
}
