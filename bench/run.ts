/**
 * `npm run bench` (full, < ~10 min) and `npm run bench -- --quick` (< 60 s): measures the mutation path
 * beside its floor and peer, then subscription fan-out at each load factor, then what one poll costs (poll-path.ts),
 * then queue positions and estimated waits against real waits (queue-estimate.ts),
 * prints a table and writes bench/results.json. `runBench(plan)` is what the test calls with tiny numbers.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startChild, closeAll, type BenchChild } from './child-process.js';
import { measureFanout, type FanoutFigures } from './fanout.js';
import { loadTargets, measureMutations, prefulfilSessions } from './mutation.js';
import { FULL_PLAN, QUICK_PLAN, type BenchPlan } from './plan.js';
import { measurePollPath } from './poll-path.js';
import { measureQueueEstimate } from './queue-estimate.js';
import { buildResults, currentLoad, formatTable, machineInfo, withQueueEstimate, type BenchResults } from './report.js';

export async function runBench(plan: BenchPlan, progress: (line: string) => void = () => {}): Promise<BenchResults> {
  const machine = machineInfo(currentLoad());
  progress(`${machine.cores} cores, node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`);

  progress('1. mutation path');
  const children: (BenchChild | undefined)[] = [];
  let mutation;
  try {
    const emulator = await startChild('emulator', { capacity: 1_000_000, pollIntervalMs: 1000 });
    children.push(emulator);
    const [floor, peer, gateway] = await Promise.all(
      (['floor', 'peer', 'gateway'] as const).map((role) => startChild(role, { upstreamUrl: emulator.url })),
    );
    children.push(floor, peer, gateway);
    await prefulfilSessions(emulator.url, plan.mutation.sessions);
    mutation = await measureMutations(plan.mutation, loadTargets(emulator, { floor: floor!, peer: peer!, gateway: gateway! }), progress);
  } finally {
    await closeAll(children);
  }

  progress('2–3. subscription fan-out, by load factor');
  const scaling: FanoutFigures[] = [];
  for (const factor of plan.fanout.factors) scaling.push(await measureFanout(plan.fanout, factor, progress));

  progress('4. poll path: queued sessions, no subscribers');
  const pollPath = await measurePollPath(plan.pollPath, progress);

  progress('5. queue position and estimated wait, against real waits');
  const queueEstimate = await measureQueueEstimate(plan.queueEstimate, progress);

  return withQueueEstimate(buildResults(plan, { ...machine, loadAverageAtEnd: currentLoad() }, mutation, scaling, pollPath), queueEstimate);
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const plan = process.argv.includes('--quick') ? QUICK_PLAN : FULL_PLAN;
  const started = Date.now();
  const results = await runBench(plan, (line) => console.log(line));
  const path = fileURLToPath(new URL('./results.json', import.meta.url));
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${formatTable(results)}\n\nwrote ${path} in ${Math.round((Date.now() - started) / 1000)} s`);
}
