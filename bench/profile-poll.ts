/**
 * `npx tsx bench/profile-poll.ts <memory|redis|cluster> [sessions] [seconds]`: one poll-path configuration
 * (bench/poll-path.ts) with its gateway under `node --cpu-prof`; the profile lands in bench/profiles/. How the
 * cost of one poll was found and cut.
 */
import { measurePollCost, type PollBackend } from './poll-path.js';

const backend = (process.argv[2] ?? 'memory') as PollBackend;
const sessions = Number(process.argv[3] ?? 2_000);
const seconds = Number(process.argv[4] ?? 10);
process.env.BENCH_CPU_PROF = 'gateway';
const figures = await measurePollCost(
  { backend, instances: 1, sessions, intervalMs: 1_000, windowMs: seconds * 1_000, monitorWindowMs: 2_000, idleWindowMs: 500, masters: 3 },
  (line) => console.log(line),
);
console.log(JSON.stringify({ ...figures, polls: undefined }, null, 2));
