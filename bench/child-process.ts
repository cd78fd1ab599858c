/**
 * The parent side of a benchmark child: every server under test, and the emulator, runs in a process of
 * its own so that it never shares an event loop with the load generator or with another server. The
 * child answers small requests over IPC (memory after GC, poll counts, capacity changes).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ChildRole, ChildReply, ChildRequest, ChildOps } from './child-protocol.js';

const CHILD_ENTRY = fileURLToPath(new URL('./child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BenchChild {
  readonly role: ChildRole;
  readonly url: string;
  readonly pid: number;
  call<K extends keyof ChildOps>(op: K, ...args: Parameters<ChildOps[K]>): Promise<Awaited<ReturnType<ChildOps[K]>>>;
  close(): Promise<void>;
}

/**
 * Forks `bench/child.ts` as `role` with `options`, and resolves once it listens.
 * `BENCH_CPU_PROF=<role>` starts that role with `--cpu-prof` (profiles land in bench/profiles/).
 */
export async function startChild(role: ChildRole, options: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<BenchChild> {
  const execArgv = ['--import', 'tsx', '--expose-gc'];
  if (env.BENCH_CPU_PROF === role) execArgv.push('--cpu-prof', '--cpu-prof-dir', `${REPO_ROOT}bench/profiles`);
  const child = fork(CHILD_ENTRY, [role, JSON.stringify(options)], { cwd: REPO_ROOT, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  const exited = once(child, 'exit');

  const ready = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench ${role} exited (${code}) before it was ready`)));
    child.on('message', (message: ChildReply) => {
      if (message.kind === 'ready') return resolve(message.url);
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.kind === 'result') waiter.resolve(message.value);
      else waiter.reject(new Error(`bench ${role}: ${message.error}`));
    });
  });
  child.on('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error(`bench ${role} exited`));
    pending.clear();
  });
  const url = await ready;

  return {
    role,
    url,
    pid: child.pid!,
    call(op, ...args) {
      const id = nextId++;
      const request: ChildRequest = { id, op, args };
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send(request);
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ id: 0, op: 'close', args: [] } satisfies ChildRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Closes children in parallel, whatever state they are in. */
export async function closeAll(children: readonly (BenchChild | undefined)[]): Promise<void> {
  await Promise.all(children.map((child) => child?.close()));
}

export type { ChildProcess };
