/**
 * Counting what keeps a Node process busy (sockets, servers, timers), so a test can prove that everything it
 * started is gone once it has closed it. `process.getActiveResourcesInfo()` lists one entry per live handle
 * or request by type; the test compares counts with a baseline taken before it started anything.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The handle types a gateway, an upstream or a client can leave behind. */
const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const;

export type ResourceCounts = Record<(typeof WATCHED)[number], number>;

export function openResources(): ResourceCounts {
  const info = process.getActiveResourcesInfo();
  return Object.fromEntries(WATCHED.map((type) => [type, info.filter((t) => t === type).length])) as ResourceCounts;
}

/**
 * Resolves once no watched count is above its baseline. Closing is asynchronous (a socket's handle goes at
 * its 'close' event, a cleared timer at the next turn), so this looks again until `timeoutMs`, then fails
 * naming what is left over.
 */
export async function waitForResourcesBackTo(baseline: ResourceCounts, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = openResources();
    const extra = WATCHED.filter((type) => now[type] > baseline[type]);
    if (extra.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`left open after close: ${extra.map((t) => `${t} ${now[t]} (baseline ${baseline[t]})`).join(', ')}`);
    }
    await sleep(50);
  }
}

/** Resolves once `check` returns true, looking again every 20 ms until `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}
