/**
 * A process's CPU time as the kernel counts it, read from outside (`/proc/<pid>/stat`, utime + stime, every
 * thread): nothing is asked of the process measured, so reading it costs that process nothing. The kernel
 * counts in clock ticks (10 ms at the usual 100 Hz), so windows must be long enough for that not to matter.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of `pid`, in µs. */
export async function processCpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) are utime and stime; `fields` starts at field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Math.round((ticks * 1e6) / TICKS_PER_SECOND);
}

/** The summed CPU of several processes, in µs. */
export async function totalCpuMicros(pids: readonly number[]): Promise<number> {
  const each = await Promise.all(pids.map((pid) => processCpuMicros(pid)));
  return each.reduce((sum, micros) => sum + micros, 0);
}
