/**
 * `npx tsx bench/profile.ts <floor|peer|gateway> [seconds]`: loads one server as the benchmark does
 * (c=64, rotating sessions) with the server started under `node --cpu-prof`; the profile lands in
 * bench/profiles/ (open it in Chrome DevTools or VS Code). How the gateway's per-request cost was found.
 */
import { closeAll, startChild } from './child-process.js';
import { FULL_PLAN } from './plan.js';
import { load, loadTargets, prefulfilSessions } from './mutation.js';

const role = (process.argv[2] ?? 'gateway') as 'floor' | 'peer' | 'gateway';
const seconds = Number(process.argv[3] ?? 15);
const emulator = await startChild('emulator', { capacity: 1_000_000 });
const server = await startChild(role, { upstreamUrl: emulator.url }, { ...process.env, BENCH_CPU_PROF: role });
try {
  await prefulfilSessions(emulator.url, FULL_PLAN.mutation.sessions);
  const target = loadTargets(emulator, { floor: server, peer: server, gateway: server })[role];
  await load(target, FULL_PLAN.mutation, 2);
  const figures = await load(target, FULL_PLAN.mutation, seconds);
  console.log(role, figures);
} finally {
  await closeAll([server, emulator]);
}
