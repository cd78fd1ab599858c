/**
 * Only the fan-out part of the benchmark, at 1× of the quick plan: `npx tsx bench/fanout-only.ts`. For
 * working on memory per subscription without the mutation part's CPU load. `BENCH_HEAP_SNAPSHOTS=/tmp/dir`
 * also writes the gateway's heap snapshots before and after opening the subscriptions.
 */
import { measureFanout } from './fanout.js';
import { QUICK_PLAN } from './plan.js';

const figures = await measureFanout(QUICK_PLAN.fanout, 1, console.log, process.env.BENCH_HEAP_SNAPSHOTS);
const { bytesPerSubscription, pollsPerSessionPerInterval, polls, spreadMs, subscribeAllMs, errors } = figures;
console.log(JSON.stringify({ bytesPerSubscription, pollsPerSessionPerInterval, minGapMs: polls.minGapMs, spreadMs, subscribeAllMs, errors }));
