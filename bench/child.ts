/**
 * A benchmark child process: `node --import tsx --expose-gc bench/child.ts <role> <options JSON>`.
 * Starts one server (or the emulator), tells the parent its URL, then answers ops over IPC until told
 * to close or until the parent goes away.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { writeHeapSnapshot } from 'node:v8';
import type { ChildOps, ChildReply, ChildRequest, ChildRole, MemorySample } from './child-protocol.js';
import { startBarePollLoops, type BarePollOptions } from './poll-path-bare.js';
import { startBenchEmulator } from './servers/emulator.js';
import { startFloor } from './servers/floor.js';
import { startGateway } from './servers/gateway.js';
import { startPeer } from './servers/peer.js';

type Handlers = Partial<ChildOps>;

const role = process.argv[2] as ChildRole;
const options = JSON.parse(process.argv[3] ?? '{}') as { upstreamUrl?: string; capacity?: number; pollIntervalMs?: number; env?: Record<string, string> };

/**
 * Full GCs, a pause (V8 hands freed pages back to the OS lazily, and RSS is what the OS counts), then a
 * last GC before reading.
 */
async function memory(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('start the child with --expose-gc');
  gc();
  gc();
  await sleep(500);
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

/** For finding where memory goes: diff two snapshots by constructor (e.g. in Chrome DevTools' Comparison view). */
async function heapSnapshot(path: string): Promise<string> {
  await memory();
  return writeHeapSnapshot(path);
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function start(): Promise<{ url: string; handlers: Handlers; close(): Promise<void> }> {
  const upstreamUrl = options.upstreamUrl ?? '';
  switch (role) {
    case 'emulator': {
      const emulator = await startBenchEmulator({ capacity: options.capacity ?? 1_000_000, pollIntervalMs: options.pollIntervalMs ?? 1000 });
      return {
        url: emulator.url,
        handlers: {
          setCapacity: (capacity) => (emulator.emulator.setCapacity(capacity), null),
          openPollWindow: () => (emulator.openPollWindow(), null),
          closePollWindow: () => emulator.closePollWindow(),
        },
        close: () => emulator.emulator.close(),
      };
    }
    case 'floor':
      return { ...(await startFloor(upstreamUrl)), handlers: {} };
    case 'peer':
      return { ...(await startPeer(upstreamUrl)), handlers: {} };
    case 'gateway': {
      const gateway = await startGateway(upstreamUrl, options.env);
      return { ...gateway, handlers: { activePollers: () => gateway.app.services.poller.activeCount } };
    }
    case 'barePoller':
      // The poll path's floor (bench/poll-path-bare.ts): no server, so no URL.
      return { url: '', handlers: {}, ...startBarePollLoops(options as unknown as BarePollOptions) };
    default:
      throw new Error(`unknown bench role ${String(role)}`);
  }
}

const running = await start();
const reply = (message: ChildReply) => process.send?.(message);
let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await running.close().catch(() => undefined);
  process.exit(0);
};

process.on('message', async (message: ChildRequest) => {
  if (message.op === 'close') return void shutdown();
  try {
    const common: Handlers = { memory, heapSnapshot, cpuMicros };
    const handler = (common[message.op] ?? running.handlers[message.op]) as ((...args: unknown[]) => unknown) | undefined;
    if (!handler) throw new Error(`${role} does not serve ${message.op}`);
    reply({ kind: 'result', id: message.id, value: await handler(...message.args) });
  } catch (error) {
    reply({ kind: 'error', id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
// The parent died or let go: never outlive it.
process.on('disconnect', () => void shutdown());
reply({ kind: 'ready', url: running.url });
