/** The messages between the benchmark and its children (see child-process.ts and child.ts). */
export type ChildRole = 'emulator' | 'floor' | 'peer' | 'gateway' | 'barePoller';

export interface MemorySample {
  rss: number;
  heapUsed: number;
}

export interface PollStats {
  /** Posts answered since the window opened. */
  polls: number;
  /** Length of the window, in ms. */
  windowMs: number;
  /** Distinct sessions polled in the window. */
  sessionsPolled: number;
  /** Shortest time between two posts of one session in the window (null when none was posted twice). */
  minGapMs: number | null;
  /** Mean time between two posts of one session in the window (null when none was posted twice). */
  meanGapMs: number | null;
}

/** What each op takes and answers; ops a role does not serve answer an error. */
export interface ChildOps {
  /** Forces full GCs, then reads `process.memoryUsage()`. */
  memory(): Promise<MemorySample>;
  /** Writes a V8 heap snapshot (after forced GCs) to `path` and answers the path (BENCH_HEAP_SNAPSHOTS). */
  heapSnapshot(path: string): Promise<string>;
  /** CPU time this process has used so far (user + system), in µs. */
  cpuMicros(): number;
  /** Emulator: sets the per-title capacity (raising it serves every queued session at once). */
  setCapacity(capacity: number): null;
  /** Emulator: opens a poll-counting window now. */
  openPollWindow(): null;
  /** Emulator: closes the window and reports what was posted in it. */
  closePollWindow(): PollStats;
  /** Gateway: poll loops running. */
  activePollers(): number;
  close(): null;
}

export interface ChildRequest {
  id: number;
  op: keyof ChildOps;
  args: unknown[];
}

export type ChildReply =
  | { kind: 'ready'; url: string }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: string };
