/**
 * A span per GraphQL operation, from @envelop/opentelemetry (yoga is built on envelop): named
 * `mutation.requestCluster` and so on, with the operation's name and type. Its span is a child of the HTTP
 * server span, which continues an incoming W3C `traceparent` (instrumentation-http, setup.ts).
 *
 * The plugin records failed results as one exception event; operators search by code, so `useErrorCodeAttribute`
 * adds the errors' `extensions.code` values as `graphql.error.codes`.
 */
import { useOpenTelemetry, getCurrentOtelContext } from '@envelop/opentelemetry';
import { SpanKind, trace, type TracerProvider } from '@opentelemetry/api';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

export const ERROR_CODES_ATTRIBUTE = 'graphql.error.codes';

export function operationSpanPlugins(tracerProvider: TracerProvider): Plugin[] {
  return [
    // Before the span plugin: envelop runs onExecuteDone hooks in plugin order, and the span plugin ends its
    // span in its own, after which attributes are dropped.
    useErrorCodeAttribute(),
    useOpenTelemetry(
      // No resolver spans (a span per field costs more than it tells here), no variables or results: they
      // are callers' data. The document is recorded only when it has no inline arguments (the plugin's rule).
      { resolvers: false, variables: false, result: false },
      tracerProvider,
      SpanKind.INTERNAL,
      {},
      'gsms-graphql',
    ) as Plugin,
  ];
}

type ExecuteDone = { args: { contextValue: unknown }; result: unknown };

function useErrorCodeAttribute(): Plugin {
  const onExecuteDone = ({ args, result }: ExecuteDone) => {
    if (isAsyncIterable(result)) return;
    const errors = (result as { errors?: readonly { extensions?: { code?: unknown } }[] }).errors;
    if (!errors?.length) return;
    const span = trace.getSpan(getCurrentOtelContext(args.contextValue));
    // An error without a code here is one yoga masks as INTERNAL_SERVER_ERROR before it leaves.
    const codes = [...new Set(errors.map((error) => (typeof error.extensions?.code === 'string' ? error.extensions.code : 'INTERNAL_SERVER_ERROR')))];
    span?.setAttribute(ERROR_CODES_ATTRIBUTE, codes);
  };
  const hooks = { onExecuteDone };
  return { onExecute: () => hooks };
}
