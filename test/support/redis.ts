/**
 * Redis for tests: `REDIS_URL` if set, else 127.0.0.1:6379 when it answers, else a `redis-server` from PATH
 * started on a free port. A test that needs Redis fails loudly when none can be had, never passes without it.
 * `spawnRedisServer` starts a private one (for tests that stop and restart it); `deleteKeys` removes a test's keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** A key prefix no other test (or engineer) uses. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${randomUUID().slice(0, 8)}:`;
}

async function answersPing(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface SpawnedRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM: with `persistent`, the append-only file keeps every key). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/**
 * A private redis-server on a free port. `persistent`: an fsync'd append-only file, so a restart keeps
 * the data (as a production Redis configured for it would).
 */
export async function spawnRedisServer({ persistent = false }: { persistent?: boolean } = {}): Promise<SpawnedRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'gsms-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no'];
  args.push(...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    child = proc;
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (error) => reject(new Error(`redis-server could not start: ${error.message}`)));
      proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
    const deadline = Date.now() + 10_000;
    const ready = (async () => {
      while (!(await answersPing(url))) {
        if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await Promise.race([ready, failed]);
    failed.catch(() => {});
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };
  await start();
  return {
    url,
    port,
    stop,
    start,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The Redis tests share: REDIS_URL, else 127.0.0.1:6379, else a spawned one (disposed by the caller). */
export async function sharedRedis(): Promise<{ url: string; dispose(): Promise<void> }> {
  const configured = process.env.REDIS_URL;
  if (configured) {
    if (!(await answersPing(configured))) throw new Error(`REDIS_URL=${configured} does not answer PING`);
    return { url: configured, dispose: async () => {} };
  }
  if (await answersPing('redis://127.0.0.1:6379')) return { url: 'redis://127.0.0.1:6379', dispose: async () => {} };
  const spawned = await spawnRedisServer();
  return { url: spawned.url, dispose: () => spawned.dispose() };
}

/** Deletes every key under a prefix (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    for (let cursor = '0'; ; ) {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    client.disconnect();
  }
}
