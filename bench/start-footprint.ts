/**
 * Start time and idle memory of the production start (`node dist/server/main.js`, after `npm run build`)
 * beside the development one (`npm start`: npm, then tsx compiling the sources on the fly).
 *
 *   npx tsx bench/start-footprint.ts [runs=3]
 *
 * Start time: from spawn to the "gateway ready" log line (embedded emulator, in memory). Idle RSS: 5 s
 * later, from /proc, of the gateway process itself and of the whole process tree (npm and tsx's own
 * processes count for `npm start`: they stay resident for the process's life).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = new URL('../', import.meta.url);
const IDLE_MS = 5_000;

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    // pgrep exits 1 when there are none
  }
  return [pid, ...children.flatMap(processTree)];
}

async function measure(command: string, args: string[]): Promise<{ readyMs: number; gatewayRssMb: number; treeRssMb: number; processes: number }> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => line.includes('"graphql":"') && resolve());
  });
  const readyMs = performance.now() - started;
  await sleep(IDLE_MS);
  const rss = processTree(child.pid!).map(rssMb);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { readyMs: Math.round(readyMs), gatewayRssMb: round(Math.max(...rss)), treeRssMb: round(rss.reduce((a, b) => a + b, 0)), processes: rss.length };
}

if (!existsSync(new URL('dist/server/main.js', ROOT))) throw new Error('run npm run build first');
const runs = Number(process.argv[2] ?? 3);
for (let i = 0; i < runs; i++) {
  console.log('node dist/server/main.js', JSON.stringify(await measure(process.execPath, ['dist/server/main.js'])));
  console.log('npm start (tsx)         ', JSON.stringify(await measure('npm', ['start'])));
}
