/**
 * `npx tsx bench/profile.ts <floor|peer|gateway> [seconds]`: loads one server as the benchmark does
 * (c=64, rotating sessions) with the server started under `node --cpu-prof`; the profile lands in
 * bench/profiles/ (open it in Chrome DevTools or VS Code). How the gateway's per-request cost was found.
 */
import { closeAll, startChild } from './child-process.js';
import { FULL_PLAN } from './plan.js';
import { graphqlTarget, load, prefulfilSessions } from './mutation.js';

const role = (process.argv[2] ?? 'gateway') as 'floor' | 'peer' | 'gateway';
const seconds = Number(process.argv[3] ?? 15);
const emulator = await startChild('emulator', { capacity: 1_000_000 });
const server = await startChild(role, { upstreamUrl: emulator.url }, { ...process.env, BENCH_CPU_PROF: role });
try {
  await prefulfilSessions(emulator.url, FULL_PLAN.mutation.sessions);
  const target = graphqlTarget(server);
  const warm = await load(target, FULL_PLAN.mutation, 2);
  const figures = await load(target, FULL_PLAN.mutation, seconds);
  // Everything the profile saw, to turn its sample times into time per request.
  const requestsProfiled = Math.round(warm.rps * 2 + figures.rps * seconds);
  console.log(role, { ...figures, requestsProfiled });
} finally {
  await closeAll([server, emulator]);
}
