/**
 * The yoga side of metrics: `GET /metrics` and GraphQL operation metrics from `@graphql-yoga/plugin-prometheus`
 * (its `graphql_envelop_*` / `graphql_yoga_*` names are kept, so the community Grafana dashboards for them
 * work as is), written into the gateway's own registry, plus a count of open subscriptions.
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { GatewayMetrics } from './gateway-metrics.js';

export const METRICS_ENDPOINT = '/metrics';

/** `serveEndpoint: false` keeps counting but answers no `GET /metrics` (e.g. on a public port). */
export function useGatewayMetrics(metrics: GatewayMetrics, { serveEndpoint = true }: { serveEndpoint?: boolean } = {}): Plugin {
  // The same hooks for every subscription, made once: envelop keeps what they return while a stream is open,
  // and a function made per subscription would be one more closure each (~370 bytes per open subscription
  // under tsx, which names every arrow function).
  const countClosed = { onEnd: () => metrics.openSubscriptions.dec() };
  const countOpenSubscriptions = {
    onSubscribeResult({ result }: { result: unknown }) {
      if (!isAsyncIterable(result)) return void metrics.subscriptionsStarted.inc({ outcome: 'refused' });
      metrics.subscriptionsStarted.inc({ outcome: 'streaming' });
      metrics.openSubscriptions.inc();
      return countClosed;
    },
  };
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(
        usePrometheus({
          registry: metrics.registry,
          endpoint: serveEndpoint ? METRICS_ENDPOINT : false,
          // The request URL would make one series per distinct query string: unbounded cardinality.
          labels: { url: false },
          metrics: {
            // A summary repeats the duration histogram and cannot be aggregated across instances.
            graphql_envelop_request_time_summary: false,
            // No field of this schema is deprecated, so the counter could only ever read zero, yet it walks
            // every operation's document with a TypeInfo on each request (~3% of a requestCluster's CPU).
            graphql_envelop_deprecated_field: false,
            // Parse and validate are answered from yoga's caches and the context is a few property reads, so
            // these timed cache hits on every request (each histogram observation labelled from the document)
            // measured nothing worth their cost.
            graphql_envelop_phase_parse: false,
            graphql_envelop_phase_validate: false,
            graphql_envelop_phase_context: false,
            // With parse and validate cached, execution is the whole operation: graphql_envelop_request_duration.
            graphql_envelop_phase_execute: false,
            // Queries and mutations only. Any subscribe-phase metric makes the plugin hook every subscription
            // for its whole life (~1 KB each, an eighth of a subscription's memory); subscriptions are counted
            // below instead (gsms_subscriptions_total, gsms_open_subscriptions), from a hook that holds nothing.
            graphql_envelop_request: ['execute'],
            graphql_envelop_request_duration: ['execute'],
            graphql_envelop_error_result: ['parse', 'validate', 'context', 'execute'],
            graphql_envelop_phase_subscribe: false,
          },
        }),
      );
    },
    // Both transports (SSE through yoga, graphql-ws through yoga.getEnveloped) pass here. The stream's end,
    // by completion or by the client going away, is where envelop calls onEnd.
    onSubscribe: () => countOpenSubscriptions,
  };
}
