/**
 * The benchmark's GSMS: the real emulator, plus a window that counts posts per session, so the poll rate
 * is measured where it costs, at the upstream.
 */
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import type { PollStats } from '../child-protocol.js';

export interface BenchEmulator {
  url: string;
  emulator: RunningEmulator;
  openPollWindow(): void;
  closePollWindow(): PollStats;
}

export async function startBenchEmulator(options: { capacity: number; pollIntervalMs: number }): Promise<BenchEmulator> {
  // A lifetime longer than any run: a cluster that ended mid-run would turn its session into new work.
  const emulator = await startEmulator({ capacity: options.capacity, pollIntervalMs: options.pollIntervalMs, clusterLifetimeMs: 3_600_000 });
  let window: { openedAt: number; countAtOpen: number } | null = null;
  return {
    url: emulator.url,
    emulator,
    openPollWindow() {
      window = { openedAt: Date.now(), countAtOpen: emulator.requestCount() };
    },
    closePollWindow() {
      if (!window) throw new Error('no poll window is open');
      const { openedAt, countAtOpen } = window;
      window = null;
      const closedAt = Date.now();
      const polls = emulator.requestCount() - countAtOpen;
      const postsBySession = new Map<string, number[]>();
      const records = emulator.requests;
      for (let i = records.length - 1; i >= 0 && records[i]!.at >= openedAt; i -= 1) {
        const { sessionKey, at } = records[i]!;
        if (sessionKey === null) continue;
        const times = postsBySession.get(sessionKey) ?? [];
        times.push(at);
        postsBySession.set(sessionKey, times);
      }
      let minGapMs = Number.POSITIVE_INFINITY;
      let gapSum = 0;
      let gaps = 0;
      for (const times of postsBySession.values()) {
        for (let i = 1; i < times.length; i += 1) {
          const gap = times[i - 1]! - times[i]!; // newest first
          minGapMs = Math.min(minGapMs, gap);
          gapSum += gap;
          gaps += 1;
        }
      }
      return {
        polls,
        windowMs: closedAt - openedAt,
        sessionsPolled: postsBySession.size,
        minGapMs: gaps ? minGapMs : null,
        meanGapMs: gaps ? gapSum / gaps : null,
      };
    },
  };
}
