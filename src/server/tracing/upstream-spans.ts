/**
 * A span per upstream attempt, from @opentelemetry/instrumentation-undici: it hears every request undici
 * creates (diagnostics_channel), and undici's retry interceptor (src/gsms/client.ts) dispatches each attempt
 * as a request of its own, so each attempt is a span with its status; the instrumentation also writes the
 * `traceparent` header onto each one. Added here: the attempt's number (attempt-trace.ts names the attempt
 * being dispatched) and the answer's X-XblCorrelationId.
 *
 * Request headers are never copied into spans: Authorization carries the caller's XBL3.0 token.
 */
import type { Span } from '@opentelemetry/api';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { attemptInDispatch } from '../../gsms/attempt-trace.js';

export const ATTEMPT_ATTRIBUTE = 'gsms.attempt';
export const CORRELATION_ID_ATTRIBUTE = 'gsms.correlation_id';
const CORRELATION_HEADER = 'x-xblcorrelationid';

export function upstreamInstrumentation(): UndiciInstrumentation {
  return new UndiciInstrumentation({
    // The request is created synchronously inside the attempt's dispatch, so the number is the current one.
    requestHook(span: Span) {
      const attempt = attemptInDispatch();
      if (attempt > 0) span.setAttribute(ATTEMPT_ATTRIBUTE, attempt);
    },
    responseHook(span, { response }) {
      const headers = response.headers;
      for (let i = 0; i + 1 < headers.length; i += 2) {
        if (headers[i]!.toString('latin1').toLowerCase() === CORRELATION_HEADER) {
          span.setAttribute(CORRELATION_ID_ATTRIBUTE, headers[i + 1]!.toString('latin1'));
          return;
        }
      }
    },
  });
}
