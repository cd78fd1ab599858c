/**
 * `npm run emulator`: a standalone GSMS emulator configured by the `GSMS_EMULATOR_*` variables (options.ts).
 * It is its own program, so it reads its own environment here rather than through the gateway's config.
 */
import { EmulatorConfigError, emulatorOptionsFromEnv } from './options.js';
import { startEmulator } from './server.js';

function readConfig(): ReturnType<typeof emulatorOptionsFromEnv> {
  try {
    return emulatorOptionsFromEnv(process.env);
  } catch (error) {
    if (!(error instanceof EmulatorConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const { port, host, options } = readConfig();

let emulator: Awaited<ReturnType<typeof startEmulator>>;
try {
  emulator = await startEmulator(options, { port, host });
} catch (error) {
  const code = (error as { code?: string }).code;
  console.error(`GSMS emulator could not listen on ${host}:${port}: ${code ?? String(error)}`);
  process.exit(1);
}

const denied = options.deniedTitles.length > 0 ? options.deniedTitles.join(',') : 'none';
console.log(
  `GSMS emulator listening on ${emulator.url} (capacity ${options.capacity}/title, cluster lifetime ${options.clusterLifetimeMs} ms, ` +
    `poll interval ${options.pollIntervalMs} ms, fault rate ${options.faultRate}, denied titles ${denied})`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}
