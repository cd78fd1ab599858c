/**
 * The production path, exactly as a container build runs it (the Dockerfile's steps): the checkout copied to
 * an empty folder, `npm ci`, `npm run build`, `npm prune --omit=dev`, then `node dist/server/main.js` with
 * production dependencies only. It must serve everything `npm start` serves: a mutation followed to FULFILLED
 * over graphql-ws and over SSE, GraphiQL (small page, compressed assets), the dashboard, Redis mode, the
 * embedded emulator; and stop on SIGTERM in time.
 *
 * Slow by nature (npm ci installs every package): one file, one generous timeout.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from 'graphql-ws';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AUTH, postGraphQL, sessionPath } from '../support/gateway.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../support/redis.js';

const run = promisify(execFile);
const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
const REQUEST = 'mutation ($s: String!) { requestCluster(titleId: "1234567890", sessionId: $s) }';
const FOLLOW = 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state hostName } }';
/** The longest a graceful stop may take (the same bound test/support/gateway-process.ts allows). */
const DRAIN_MS = 10_000;
/** Packages only a development install has: none may be left, so nothing can import them at run time. */
const DEV_ONLY = ['tsx', 'esbuild', 'typescript', 'vitest', 'playwright-core', '@graphql-codegen/cli'];

let folder: string;
const processes = new Set<ChildProcess>();

/** Runs an npm command in the copy, as the build would; its output is shown only when it fails. */
async function npm(...args: string[]): Promise<void> {
  try {
    await run('npm', [...args, '--no-audit', '--no-fund'], { cwd: folder, env: { PATH: process.env.PATH, HOME: process.env.HOME }, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed\n${stdout?.slice(-4_000)}\n${stderr?.slice(-4_000)}`);
  }
}

/** What `git ls-files` lists (tracked, plus new files not ignored): the checkout without node_modules and dist. */
async function copyCheckout(to: string): Promise<number> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: CHECKOUT, maxBuffer: 64 * 1024 * 1024 });
  const files = stdout.split('\0').filter((file) => file && existsSync(join(CHECKOUT, file)));
  for (const file of files) {
    await mkdir(dirname(join(to, file)), { recursive: true });
    await copyFile(join(CHECKOUT, file), join(to, file));
  }
  return files.length;
}

interface Started {
  url: string;
  child: ChildProcess;
  readyAfterMs: number;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** `node dist/server/main.js` on a free port; resolves at its "gateway ready" line. */
async function startProduction(env: Record<string, string>): Promise<Started> {
  const started = Date.now();
  const child = spawn(process.execPath, ['dist/server/main.js'], {
    cwd: folder,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.add(child);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      processes.delete(child);
      resolve({ code, signal });
    }),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const url = await new Promise<string>((resolve, reject) => {
    void exited.then(({ code }) => reject(new Error(`node dist/server/main.js exited (${code}) before it was ready\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const graphql = /"graphql":"(http:[^"]+)\/graphql"/.exec(line)?.[1];
      if (graphql) resolve(graphql);
    });
  });
  return { url, child, readyAfterMs: Date.now() - started, exited };
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'gsms-prod-'));
  await copyCheckout(folder);
  await npm('ci', '--prefer-offline');
  await npm('run', 'build');
  await npm('prune', '--omit=dev');
}, 600_000);

afterAll(async () => {
  for (const child of processes) child.kill('SIGKILL');
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('a production build on production dependencies only', () => {
  it('has no dev dependency left to import, and the built dashboard and GraphiQL files', () => {
    for (const name of DEV_ONLY) expect(existsSync(join(folder, 'node_modules', name)), `${name} is still installed`).toBe(false);
    expect(existsSync(join(folder, 'dist/server/main.js'))).toBe(true);
    expect(existsSync(join(folder, 'dist/web-assets/manifest.json'))).toBe(true);
  });

  it('serves a session to FULFILLED over graphql-ws and SSE, GraphiQL and the dashboard, then stops on SIGTERM in time', async () => {
    // One server per title that frees after a second: the second session queues, then is served.
    const gateway = await startProduction({ GSMS_EMULATOR_CAPACITY: '1', GSMS_EMULATOR_CLUSTER_LIFETIME_MS: '1000', GSMS_EMULATOR_POLL_INTERVAL_MS: '200' });
    console.log(`node dist/server/main.js ready after ${gateway.readyAfterMs} ms`);

    expect((await postGraphQL(gateway.url, REQUEST, { s: sessionPath('prod-first') })).data).toEqual({ requestCluster: 'FULFILLED' });
    expect((await postGraphQL(gateway.url, REQUEST, { s: sessionPath('prod-second') })).data).toEqual({ requestCluster: 'QUEUED' });

    // graphql-ws: the queued session followed until it is served.
    const client = createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: AUTH } });
    const states: string[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe<{ clusterStatus: { state: string } }>(
        { query: FOLLOW, variables: { s: sessionPath('prod-second') } },
        { next: ({ data }) => void states.push(data!.clusterStatus.state), error: reject, complete: resolve },
      );
    });
    expect(states.at(0)).toBe('QUEUED');
    expect(states.at(-1)).toBe('FULFILLED');

    // SSE: the first event of a served session.
    const sse = await request(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: AUTH },
      body: JSON.stringify({ query: FOLLOW, variables: { s: sessionPath('prod-first') } }),
    });
    expect(sse.headers['content-type']).toMatch(/text\/event-stream/);
    expect(await sse.body.text()).toContain('"state":"FULFILLED"');

    // GraphiQL: the small page, and its script compressed from the build.
    const page = await request(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await page.body.text();
    expect(page.statusCode).toBe(200);
    expect(html.length).toBeLessThan(200 * 1024);
    const script = /src="(\/graphiql\/graphiql\.[0-9a-f]+\.js)"/.exec(html)?.[1];
    const bundle = await request(`${gateway.url}${script}`, { headers: { 'accept-encoding': 'gzip, br' } });
    await bundle.body.dump();
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-encoding']).toBe('br');

    // The dashboard, bundled at build time.
    const dashboard = await request(`${gateway.url}/dashboard`);
    const dashboardHtml = await dashboard.body.text();
    expect(dashboard.statusCode).toBe(200);
    const dashboardScript = /src="(\/dashboard\/app\.[0-9a-f]+\.js)"/.exec(dashboardHtml)?.[1];
    const appJs = await request(`${gateway.url}${dashboardScript}`);
    await appJs.body.dump();
    expect(appJs.statusCode).toBe(200);

    // SIGTERM with a subscriber still connected: a graceful exit within the drain time.
    const open = createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: AUTH } });
    await postGraphQL(gateway.url, REQUEST, { s: sessionPath('prod-third') });
    await new Promise<void>((resolve) => open.subscribe({ query: FOLLOW, variables: { s: sessionPath('prod-third') } }, { next: () => resolve(), error: () => {}, complete: () => {} }));
    const stopping = Date.now();
    gateway.child.kill('SIGTERM');
    const { code } = await gateway.exited;
    const stoppedAfterMs = Date.now() - stopping;
    await Promise.all([client.dispose(), open.dispose()]);
    console.log(`SIGTERM to exit: ${stoppedAfterMs} ms`);
    expect(code).toBe(0);
    expect(stoppedAfterMs).toBeLessThan(DRAIN_MS);
  }, 120_000);

  it('runs scaled out on Redis', async () => {
    const redis = await sharedRedis();
    const prefix = uniquePrefix('production-build');
    try {
      const gateway = await startProduction({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex') });
      const ready = await request(`${gateway.url}/ready`);
      expect(await ready.body.json()).toMatchObject({ ready: true, checks: { redis: true } });
      expect((await postGraphQL(gateway.url, REQUEST, { s: sessionPath('prod-redis') })).data).toEqual({ requestCluster: 'FULFILLED' });
      const read = await postGraphQL<{ cluster: { state: string } }>(gateway.url, 'query ($s: String!) { cluster(sessionId: $s) { state } }', { s: sessionPath('prod-redis') });
      expect(read.data?.cluster.state).toBe('FULFILLED');
      gateway.child.kill('SIGTERM');
      expect((await gateway.exited).code).toBe(0);
    } finally {
      await deleteKeys(redis.url, prefix);
      await redis.dispose();
    }
  }, 60_000);
});
