/**
 * Tracing on: the OpenTelemetry Node SDK, exporting spans over OTLP/HTTP as the standard OTEL_* variables say
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf or http/json, OTEL_SERVICE_NAME,
 * OTEL_TRACES_SAMPLER, OTEL_BSP_*, …): the SDK reads them itself. main.ts imports this module first, and only
 * when tracing is asked for, because instrumentations must be registered before the modules they patch load.
 *
 * Spans: the HTTP server span of each /graphql request (continues an incoming `traceparent`), the GraphQL
 * operation (operation-spans.ts), each upstream attempt (upstream-spans.ts), each poll (poll-spans.ts) and
 * Redis commands. Traces only: metrics stay on /metrics, logs on stdout.
 */
import { register } from 'node:module';
import { trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { NodeSDK, resources } from '@opentelemetry/sdk-node';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import packageJson from '../../../package.json' with { type: 'json' };
import type { GatewayTracing } from './gateway-tracing.js';
import { operationSpanPlugins } from './operation-spans.js';
import { createPollTracer } from './poll-spans.js';
import { redisStatement } from './redis-statement.js';
import { upstreamInstrumentation } from './upstream-spans.js';

// ESM imports are patched through a loader hook; the message channel limits it to the modules an
// instrumentation asked for (ioredis, node:http), instead of wrapping every module the gateway loads.
const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

const sdk = new NodeSDK({
  // The SDK's defaults, named for this service; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still win.
  resource: resources.defaultResource().merge(resources.resourceFromAttributes({ 'service.name': 'gsms-graphql', 'service.version': packageJson.version })),
  instrumentations: [
    new HttpInstrumentation({
      // Server spans for GraphQL requests only: probes and scrapes (/health, /ready, /metrics) would be noise,
      // and the embedded emulator's requests are the attempts' other end. The upstream is undici, not node:http.
      ignoreIncomingRequestHook: (request) => !request.url?.startsWith('/graphql'),
      disableOutgoingRequestInstrumentation: true,
    }),
    upstreamInstrumentation(),
    new IORedisInstrumentation({ dbStatementSerializer: redisStatement }),
  ],
  // Traces only.
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
await waitForAllMessagesAcknowledged();

const tracer = trace.getTracer('gsms-graphql', packageJson.version);
const SHUTDOWN_FLUSH_LIMIT_MS = 5_000;

export const tracing: GatewayTracing = {
  yogaPlugins: operationSpanPlugins(trace.getTracerProvider()),
  tracePoll: createPollTracer(tracer),
  // Bounded: a collector that does not answer must not hold the process past its stop (the exporter's own
  // timeout is 10 s per try); spans still unsent then are lost, as on any crash.
  shutdown: () => Promise.race([sdk.shutdown(), new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_FLUSH_LIMIT_MS).unref())]),
};
