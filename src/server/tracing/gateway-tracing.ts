/**
 * What the rest of the gateway gets from tracing when it is on (setup.ts builds it). Types only: app.ts and
 * services.ts import this file, so nothing of OpenTelemetry loads unless OTEL_EXPORTER_OTLP_ENDPOINT asks.
 */
import type { Plugin } from 'graphql-yoga';

export interface GatewayTracing {
  /** yoga plugins: a span per GraphQL operation with its name, type and the errors' codes. */
  yogaPlugins: Plugin[];
  /** The poller's `tracePoll`: a span per poll of a session, the poll's upstream attempts as its children. */
  tracePoll<T>(sessionId: string, titleId: string, run: () => Promise<T>): Promise<T>;
  /** Ends the spans' export: flushes what is batched, within 5 s (call once, on shutdown). */
  shutdown(): Promise<void>;
}
