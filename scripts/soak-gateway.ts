/**
 * The gateway under soak, as its own process so its heap is measured alone (the load generator and the
 * emulator live in scripts/soak.ts). Configured like `npm start`, from the environment; GSMS_BASE_URL is
 * the soak's emulator. Talks to its parent over IPC:
 *   → { type: 'ready', url }            once listening
 *   ← { type: 'heap' }                  → { type: 'heap', heapUsed, rss, records, loopDelay, cpuMs } after a
 *                                         forced GC (run with --expose-gc); `records`: session records held;
 *                                         `loopDelay` (p99, max ms) and `cpuMs` since the previous reading
 *   ← { type: 'stop' }                  stops the gateway and exits 0
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/logger.js';

type ParentMessage = { type: 'heap' } | { type: 'stop' };

const config = loadConfig(process.env);
if (!config.gsmsBaseUrl) throw new Error('soak-gateway needs GSMS_BASE_URL (the soak starts the emulator)');
const app = buildApp(config, config.gsmsBaseUrl, createLogger(config.logLevel));
const url = await app.start(0, '127.0.0.1');
process.send?.({ type: 'ready', url });

// Whether the gateway itself was the bottleneck: how late its event loop ran, and how much CPU it used.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let cpuSince = process.cpuUsage();

/** Two full collections: the first can leave garbage that only a second one frees (weak refs, finalizers). */
async function settledHeap() {
  const delay = { p99: Math.round(loopDelay.percentile(99) / 1e5) / 10, max: Math.round(loopDelay.max / 1e5) / 10 };
  const cpu = process.cpuUsage(cpuSince);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 2; i += 1) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, rss } = process.memoryUsage();
  const records = (await app.services.registry.list({})).length;
  loopDelay.reset();
  cpuSince = process.cpuUsage();
  return { heapUsed, rss, records, loopDelay: delay, cpuMs };
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
