/**
 * `npx tsx bench/compare.ts [seconds] [rounds] [name:ENV=value,ENV=value …]`: the floor and the peer beside the
 * gateway and any gateway variants (environment overrides), loaded in turn as part 1 loads them (c=64, rotating
 * sessions), interleaved, after one unrecorded warm-up each. Prints each run and the medians of server CPU
 * per request, the figure that tells whether a change to the gateway made it cheaper.
 *
 * e.g. `npx tsx bench/compare.ts 5 3 no-limit:RATE_LIMIT_REQUEST_CLUSTER=off quiet:LOG_LEVEL=warn`
 */
import { closeAll, startChild, type BenchChild } from './child-process.js';
import { FULL_PLAN } from './plan.js';
import { graphqlTarget, load, prefulfilSessions, type RunFigures } from './mutation.js';
import { median } from './stats.js';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const variants: Record<string, Record<string, string>> = { gateway: {} };
for (const spec of process.argv.slice(4)) {
  const [name, assignments = ''] = spec.split(/:(.*)/s);
  variants[name!] = Object.fromEntries(assignments.split(',').filter(Boolean).map((assignment) => assignment.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

const emulator = await startChild('emulator', { capacity: 1_000_000 });
const servers: Record<string, BenchChild> = {
  floor: await startChild('floor', { upstreamUrl: emulator.url }),
  peer: await startChild('peer', { upstreamUrl: emulator.url }),
};
for (const [name, { NODE_OPTIONS, ...env }] of Object.entries(variants)) {
  // NODE_OPTIONS goes to the child process (V8 flags), everything else to the gateway's configuration.
  servers[name] = await startChild('gateway', { upstreamUrl: emulator.url, env }, NODE_OPTIONS ? { ...process.env, NODE_OPTIONS } : process.env);
}
try {
  await prefulfilSessions(emulator.url, FULL_PLAN.mutation.sessions);
  const names = Object.keys(servers);
  const runs: Record<string, RunFigures[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await load(graphqlTarget(servers[name]!), FULL_PLAN.mutation, 2);
  for (let round = 0; round < rounds; round += 1) {
    for (const name of names.map((_, i) => names[(i + round) % names.length]!)) {
      const figures = await load(graphqlTarget(servers[name]!), FULL_PLAN.mutation, seconds);
      runs[name]!.push(figures);
      console.log(`${name.padEnd(16)} ${figures.rps} req/s  p99 ${figures.p99Ms} ms  ${figures.cpuMicrosPerRequest} µs CPU/req  errors ${figures.errors}`);
    }
  }
  console.log(`\nmedians over ${rounds} × ${seconds} s, c=${FULL_PLAN.mutation.concurrency}:`);
  const floorRps = median(runs.floor!.map((r) => r.rps));
  for (const name of names) {
    const list = runs[name]!;
    const rps = median(list.map((r) => r.rps));
    const cpu = median(list.map((r) => r.cpuMicrosPerRequest));
    console.log(`${name.padEnd(16)} ${rps} req/s (${(rps / floorRps).toFixed(2)}× floor)  p99 ${median(list.map((r) => r.p99Ms))} ms  ${cpu} µs CPU/req`);
  }
} finally {
  await closeAll([...Object.values(servers), emulator]);
}
