/**
 * A span per poll of a queued session. A poll runs on the poller's timer, far from the request that asked for
 * the cluster, so each poll is the root of its own trace (a trace per session would grow for as long as the
 * session waits); the session is named by attributes, and the span links to whatever span was current when
 * the poll ran (the request or the previous poll) so a backend can walk from one to the next.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Link, type Tracer } from '@opentelemetry/api';

export const POLL_SPAN_NAME = 'gsms.poll';

export function createPollTracer(tracer: Tracer) {
  return async function tracePoll<T>(sessionId: string, titleId: string, run: () => Promise<T>): Promise<T> {
    const current = trace.getSpan(context.active())?.spanContext();
    const links: Link[] = current && trace.isSpanContextValid(current) ? [{ context: current }] : [];
    const span = tracer.startSpan(
      POLL_SPAN_NAME,
      { kind: SpanKind.INTERNAL, root: true, links, attributes: { 'gsms.session_id': sessionId, 'gsms.title_id': titleId } },
      ROOT_CONTEXT,
    );
    try {
      return await context.with(trace.setSpan(ROOT_CONTEXT, span), run);
    } catch (error) {
      // Our errors carry a code (GsmsError); the message is ours too, never a credential.
      const code = (error as { code?: unknown } | null)?.code;
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : 'poll failed' });
      if (typeof code === 'string') span.setAttribute('gsms.error_code', code);
      throw error;
    } finally {
      span.end();
    }
  };
}
