/**
 * A private 3-master Redis Cluster for tests and benches: one `redis-server --cluster-enabled yes` per node
 * on free ports, joined with `redis-cli --cluster create … --cluster-replicas 0`, removed by `dispose`.
 *
 * Each master keeps an fsync'd append-only file, so a restarted master comes back with its keys (and its
 * nodes.conf, so with its slots), as a production master configured for it would. Every wait is bounded
 * and fails with a message naming the node. `cluster-require-full-coverage no`, as the README advises: a
 * master that is away costs its own slots only. No vitest imports: bench/ uses this too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './redis.js';

export interface SpawnedRedisCluster {
  /** The REDIS_CLUSTER_NODES value: `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  nodes: string;
  /** Every master's port, in creation order. */
  ports: number[];
  /** The port of the master serving the key's slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGTERM the node, start it again on the same port and data, wait until the cluster reports ok. */
  restart(port: number): Promise<void>;
  /** SIGTERM the node and wait for its exit (the cluster fails for its slots until it is back). */
  stop(port: number): Promise<void>;
  /** Starts a stopped node again and waits until the cluster reports ok. */
  start(port: number): Promise<void>;
  /** Waits until every running node reports `cluster_state:ok`. */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes the data. */
  dispose(): Promise<void>;
}

interface ClusterNode {
  port: number;
  /** The cluster bus port (by default port + 10,000, which may be taken, or above 65,535 for a high free port). */
  busPort: number;
  dir: string;
  child: ChildProcess | undefined;
}

const START_TIMEOUT_MS = 10_000;
const CLUSTER_OK_TIMEOUT_MS = 20_000;

// A test process that dies without disposing takes its nodes with it.
const everyChild = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of everyChild) child.kill('SIGKILL');
});

/** A short-lived client to one node, failing fast. */
async function withNode<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

async function answersPing(port: number): Promise<boolean> {
  try {
    return (await withNode(port, (client) => client.ping())) === 'PONG';
  } catch {
    return false;
  }
}

async function clusterState(port: number): Promise<string> {
  try {
    const info = await withNode(port, (client) => client.cluster('INFO') as Promise<string>);
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  } catch (error) {
    return `unreachable (${(error as Error).message})`;
  }
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start: ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${output}`));
    });
  });
}

async function startNode(node: ClusterNode): Promise<void> {
  const args = [
    '--port', String(node.port),
    '--bind', '127.0.0.1',
    '--cluster-enabled', 'yes',
    '--cluster-port', String(node.busPort),
    '--cluster-config-file', join(node.dir, 'nodes.conf'),
    '--cluster-node-timeout', '2000',
    // The other shards keep serving while one master is away (Redis' default refuses every slot then).
    '--cluster-require-full-coverage', 'no',
    '--appendonly', 'yes',
    '--appendfsync', 'always',
    '--save', '',
    '--dir', node.dir,
    '--daemonize', 'no',
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  node.child = child;
  everyChild.add(child);
  child.once('exit', () => everyChild.delete(child));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`redis-server on ${node.port} could not start: ${error.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`redis-server on ${node.port} exited with ${code ?? signal} while starting`)));
  });
  failed.catch(() => {});
  const ready = (async () => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answersPing(node.port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on ${node.port} did not answer PING within ${START_TIMEOUT_MS} ms`);
      await sleep(50);
    }
  })();
  await Promise.race([ready, failed]);
}

async function stopNode(node: ClusterNode): Promise<void> {
  const child = node.child;
  node.child = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Attempts at starting a cluster: a free port can be taken by another process before a node binds it. */
const START_ATTEMPTS = 3;

export async function spawnRedisCluster({ masters = 3 }: { masters?: number } = {}): Promise<SpawnedRedisCluster> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await spawnOnce(masters);
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}

async function spawnOnce(masters: number): Promise<SpawnedRedisCluster> {
  const root = await mkdtemp(join(tmpdir(), 'gsms-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  const byPort = (port: number) => {
    const node = nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`no cluster node on port ${port} (ports: ${nodes.map((n) => n.port).join(', ')})`);
    return node;
  };

  const waitUntilOk = async (timeoutMs = CLUSTER_OK_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = nodes.filter((node) => node.child);
      const states = await Promise.all(running.map(async (node) => [node.port, await clusterState(node.port)] as const));
      if (states.every(([, state]) => state === 'ok')) return;
      if (Date.now() > deadline) {
        throw new Error(`Redis Cluster not ok within ${timeoutMs} ms: ${states.map(([port, state]) => `${port}=${state}`).join(', ')}`);
      }
      await sleep(100);
    }
  };

  const dispose = async () => {
    await Promise.all(nodes.map((node) => stopNode(node)));
    await rm(root, { recursive: true, force: true });
  };

  try {
    // Ports are chosen one by one and may race other processes; a node that cannot bind fails its start.
    for (let i = 0; i < masters; i += 1) {
      const port = await freePort();
      const busPort = await freePort();
      const dir = join(root, String(port));
      await mkdir(dir);
      nodes.push({ port, busPort, dir, child: undefined });
    }
    await Promise.all(nodes.map((node) => startNode(node)));
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], 30_000);
    await waitUntilOk();
  } catch (error) {
    await dispose();
    throw error;
  }

  return {
    nodes: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
    ports: nodes.map((node) => node.port),
    async masterOf(key) {
      const running = nodes.find((node) => node.child);
      if (!running) throw new Error('no cluster node is running');
      return withNode(running.port, async (client) => {
        const slot = (await client.cluster('KEYSLOT', key)) as number;
        const ranges = await client.cluster('SLOTS');
        const range = ranges.find(([low, high]) => slot >= low && slot <= high);
        if (!range?.[2]) throw new Error(`no master serves slot ${slot} (key ${key})`);
        return range[2][1];
      });
    },
    async restart(port) {
      const node = byPort(port);
      await stopNode(node);
      await startNode(node);
      await waitUntilOk();
    },
    async stop(port) {
      await stopNode(byPort(port));
    },
    async start(port) {
      const node = byPort(port);
      if (!node.child) await startNode(node);
      await waitUntilOk();
    },
    waitUntilOk,
    dispose,
  };
}
