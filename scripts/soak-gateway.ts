/**
 * The gateway under soak, as its own process so its heap is measured alone (the load generator and the
 * emulator live in scripts/soak.ts). Configured like `npm start`, from the environment; GSMS_BASE_URL is
 * the soak's emulator. Talks to its parent over IPC:
 *   → { type: 'ready', url }            once listening
 *   ← { type: 'heap' }                  → { type: 'heap', heapUsed, rss, records } after a forced GC (run with
 *                                         --expose-gc); `records`: session records the registry holds
 *   ← { type: 'stop' }                  stops the gateway and exits 0
 */
import { buildApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/logger.js';

type ParentMessage = { type: 'heap' } | { type: 'stop' };

const config = loadConfig(process.env);
if (!config.gsmsBaseUrl) throw new Error('soak-gateway needs GSMS_BASE_URL (the soak starts the emulator)');
const app = buildApp(config, config.gsmsBaseUrl, createLogger(config.logLevel));
const url = await app.start(0, '127.0.0.1');
process.send?.({ type: 'ready', url });

/** Two full collections: the first can leave garbage that only a second one frees (weak refs, finalizers). */
async function settledHeap(): Promise<{ heapUsed: number; rss: number; records: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 2; i += 1) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss, records: (await app.services.registry.list({})).length };
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'heap') {
    void settledHeap().then((heap) => process.send?.({ type: 'heap', ...heap }));
  } else if (message.type === 'stop') {
    void app.stop().then(() => process.exit(0));
  }
});
// The parent died without saying stop: do not linger.
process.on('disconnect', () => void app.stop().then(() => process.exit(0)));
