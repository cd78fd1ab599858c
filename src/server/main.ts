/**
 * `npm start`: the gateway. With no GSMS_BASE_URL it starts the embedded GSMS emulator on loopback and
 * talks to it over real HTTP, so a fresh clone runs with no Xbox Live access.
 */
import { startEmulator, type RunningEmulator } from '../gsms/emulator/server.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);

  let emulator: RunningEmulator | undefined;
  let gsmsBaseUrl = config.gsmsBaseUrl;
  if (!gsmsBaseUrl) {
    const { options, port } = config.embeddedEmulator;
    // Embedded: loopback, and a free port unless one is set, so several gateways can run side by side.
    emulator = await startEmulator(options, { port, host: '127.0.0.1' });
    gsmsBaseUrl = emulator.url;
    logger.info({ url: emulator.url, ...options }, 'embedded GSMS emulator started (set GSMS_BASE_URL to use a real GSMS)');
  }

  const app = buildApp(config, gsmsBaseUrl, logger);
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
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('gsms-graphql failed to start:', error);
  }
  process.exit(1);
});
