/**
 * `npm start`: the gateway. With no GSMS_BASE_URL it starts the embedded GSMS emulator on loopback and
 * talks to it over real HTTP, so a fresh clone runs with no Xbox Live access.
 *
 * Only type imports are static here: with OTEL_EXPORTER_OTLP_ENDPOINT set, tracing/setup.ts must register its
 * instrumentations before http, undici and ioredis load, so the app is imported after it; unset, nothing of
 * OpenTelemetry loads at all. The OTEL_* variables are the SDK's to read (the standard), not config.ts's.
 */
import type { RunningEmulator } from '../gsms/emulator/server.js';
import type { GatewayTracing } from './tracing/gateway-tracing.js';

const tracingRequested =
  Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && process.env.OTEL_SDK_DISABLED !== 'true';

async function main(): Promise<void> {
  const tracing: GatewayTracing | undefined = tracingRequested ? (await import('./tracing/setup.js')).tracing : undefined;
  const [{ startEmulator }, { buildApp }, { loadConfig }, { createLogger }] = await Promise.all([
    import('../gsms/emulator/server.js'),
    import('./app.js'),
    import('./config.js'),
    import('./logger.js'),
  ]);

  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  if (tracing) logger.info({ component: 'tracing' }, 'traces exported over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT is set)');

  let emulator: RunningEmulator | undefined;
  let gsmsBaseUrl = config.gsmsBaseUrl;
  if (!gsmsBaseUrl) {
    const { options, port } = config.embeddedEmulator;
    // Embedded: loopback, and a free port unless one is set, so several gateways can run side by side.
    emulator = await startEmulator(options, { port, host: '127.0.0.1' });
    gsmsBaseUrl = emulator.url;
    logger.info({ url: emulator.url, ...options }, 'embedded GSMS emulator started (set GSMS_BASE_URL to use a real GSMS)');
  }

  const app = buildApp(config, gsmsBaseUrl, logger, tracing);
  const url = await app.start();
  logger.info(
    { graphql: `${url}/graphql`, gsms: gsmsBaseUrl },
    `gateway ready: open ${url}/graphql for GraphiQL${config.operating.dashboard ? `, ${url}/dashboard for the live sessions` : ''}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await app.stop();
    await emulator?.close();
    // After the app: the spans of the last operations and polls are ended by then, and leave with this flush.
    await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error, component: 'tracing' }, 'spans not flushed on shutdown'));
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch(async (error: unknown) => {
  const { ConfigError } = await import('./config.js');
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('gsms-graphql failed to start:', error);
  }
  process.exit(1);
});
