/**
 * Gateways as real processes (`node --import tsx src/server/main.ts`), for tests that kill one with
 * SIGKILL or run several on one Redis: pass `REDIS_URL` for one primary or `REDIS_CLUSTER_NODES` for a
 * Redis Cluster (test/scale-out/topologies.ts gives either), plus `GSMS_CREDENTIAL_KEY`. Only the given
 * environment reaches the process (with PATH and HOME), so a developer's own REDIS_URL cannot leak in
 * beside a cluster's nodes. Each listens on a free port; its JSON log lines are kept, and the "gateway
 * ready" line gives its URL. Every process started here is killed by `stopAllGatewayProcesses`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createClient, type Client } from 'graphql-ws';
import { request } from 'undici';
import WebSocket from 'ws';
import { AUTH, postGraphQL, type GraphQLResponse } from './gateway.js';

export interface GatewayProcess {
  url: string;
  /** The instance id it holds poll leases under (from its "shared state in Redis" log line), if in Redis mode. */
  instanceId: string | undefined;
  pid: number;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string | null>;
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, authorization?: string | null): Promise<GraphQLResponse<T>>;
  /** GET a path (e.g. /ready) and return its status. */
  status(path: string): Promise<number>;
  /** A graphql-ws client that fails fast; disposed when the process is stopped. */
  wsClient(connectionParams?: Record<string, unknown>): Client;
  /** SIGKILL: no shutdown code runs, as when a machine dies. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the graceful exit. */
  stop(): Promise<void>;
}

const running = new Set<GatewayProcess>();
const children = new Set<ChildProcess>();
// If the test process ends without cleaning up (a crash, a killed worker), take the gateways with it.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function startGatewayProcess(env: Record<string, string>, startTimeoutMs = 30_000): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const clients: Client[] = [];

  const ready = new Promise<{ url: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within ${startTimeoutMs} ms\n${stderr}`)), startTimeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before it was ready\n${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (typeof entry.graphql === 'string') {
        clearTimeout(timer);
        resolve({ url: entry.graphql.replace(/\/graphql$/, '') });
      }
    });
  });
  let url: string;
  try {
    ({ url } = await ready);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  const gateway: GatewayProcess = {
    url,
    instanceId: logs.find((entry) => typeof entry.instanceId === 'string')?.instanceId as string | undefined,
    pid: child.pid!,
    logs,
    exited,
    graphql: (query, variables, authorization = AUTH) => postGraphQL(url, query, variables, authorization),
    async status(path) {
      const response = await request(`${url}${path}`);
      await response.body.dump();
      return response.statusCode;
    },
    wsClient(connectionParams = { authorization: AUTH }) {
      const client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams });
      clients.push(client);
      return client;
    },
    async kill() {
      running.delete(gateway);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await Promise.all(clients.map((c) => c.dispose()));
    },
    async stop() {
      running.delete(gateway);
      await Promise.all(clients.map((c) => c.dispose()));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(gateway);
  return gateway;
}

/** Stops every gateway process still running (call in afterAll). */
export async function stopAllGatewayProcesses(): Promise<void> {
  await Promise.all([...running].map((gateway) => gateway.stop()));
}
