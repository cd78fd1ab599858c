/**
 * The queue tracker in both modes, driven by the state events the registries raise: positions in request
 * order, leaving from anywhere, the estimate (null until evidence, then position × mean interval), the idle
 * clock, and in Redis the shared order across two trackers and the clean-up of stale entries.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryQueueTracker } from '../../src/clusters/queue-memory.js';
import { RedisQueueTracker } from '../../src/clusters/queue-redis.js';
import { MIN_EVIDENCE, SERVED_WINDOW, estimateWaitMs, standingChanged, summarizeServed, type QueueTracker } from '../../src/clusters/queue-tracker.js';
import { QUEUE_TITLE as TITLE, queueEvent as event, queueRecord as record, silentLogger as silent } from '../support/queue-fixtures.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../support/redis.js';

async function positions(tracker: QueueTracker, names: string[], titleId = TITLE): Promise<(number | null)[]> {
  await tracker.settled();
  return Promise.all(names.map(async (name) => (await tracker.standing(record(name, 'QUEUED', 0, titleId)))?.queuePosition ?? null));
}

describe('rate arithmetic', () => {
  it('measures a whole number of batches exactly, wherever the window starts', () => {
    // Clusters end 4 at a time every 3 s: 0.75 s per fulfilment.
    const served = Array.from({ length: 60 }, (_, i) => 3_000 * Math.floor(i / 4) + (i % 4));
    for (const start of [0, 1, 2, 3, 5]) {
      const window = served.slice(start, start + SERVED_WINDOW + 1);
      const rate = summarizeServed(window, 0)!;
      expect(rate.intervals).toBe(SERVED_WINDOW);
      expect(Math.abs(rate.spanMs / rate.intervals - 750)).toBeLessThan(5);
    }
  });

  it('counts from the start of the queue before the window fills, and gives nothing before MIN_EVIDENCE', () => {
    const rate = summarizeServed([3_000, 3_001, 3_002], 0)!;
    expect(estimateWaitMs(1, rate, 3_500)).toBeNull();
    const enough = summarizeServed([3_000, 3_001, 3_002, 3_003], 0)!;
    expect(enough.evidence).toBe(MIN_EVIDENCE);
    expect(estimateWaitMs(8, enough, 3_500)).toBe(Math.round((8 * 3_003) / 4));
  });

  it('stretches the estimate when the queue stalls longer than any interval seen', () => {
    const rate = summarizeServed([1_000, 2_000, 3_000, 4_000], 0)!;
    expect(estimateWaitMs(2, rate, 4_500)).toBe(2_000);
    expect(estimateWaitMs(2, rate, 9_000)).toBe(Math.round((2 * (4_000 + 4_000)) / 4));
    // Never past GraphQL's 32-bit Int, however long the stall.
    expect(estimateWaitMs(1_000, rate, 1e13)).toBe(2_147_483_647);
  });

  it('publishes on a new position, an estimate appearing, or a move of 10% and 1 s', () => {
    expect(standingChanged(undefined, { queuePosition: 3, estimatedWaitMs: null })).toBe(true);
    expect(standingChanged({ queuePosition: 3, estimatedWaitMs: null }, { queuePosition: 2, estimatedWaitMs: null })).toBe(true);
    expect(standingChanged({ queuePosition: 3, estimatedWaitMs: null }, { queuePosition: 3, estimatedWaitMs: 5_000 })).toBe(true);
    expect(standingChanged({ queuePosition: 3, estimatedWaitMs: 20_000 }, { queuePosition: 3, estimatedWaitMs: 21_000 })).toBe(false);
    expect(standingChanged({ queuePosition: 3, estimatedWaitMs: 20_000 }, { queuePosition: 3, estimatedWaitMs: 23_000 })).toBe(true);
  });
});

/** The same behaviour, whichever tracker. */
function trackerBehaviour(make: () => Promise<{ tracker: QueueTracker; now: { value: number } }>) {
  it('orders by request, lets sessions leave from anywhere, and keeps titles apart', async () => {
    const { tracker } = await make();
    const t0 = 1_800_000_000_000;
    for (const [i, name] of ['a', 'b', 'c', 'd', 'e'].entries()) tracker.onStateEvent(event('cluster.queued', name, t0 + i));
    // Two in the same millisecond keep the order their changes were stored in.
    tracker.onStateEvent(event('cluster.queued', 'f', t0 + 10));
    tracker.onStateEvent(event('cluster.queued', 'e0', t0 + 10));
    tracker.onStateEvent(event('cluster.queued', 'x', t0, '99'));
    expect(await positions(tracker, ['a', 'b', 'c', 'd', 'e', 'f', 'e0'])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    tracker.onStateEvent(event('cluster.aborted', 'c', t0 + 20));
    tracker.onStateEvent(event('cluster.fulfilled', 'a', t0 + 21));
    tracker.onStateEvent(event('cluster.watch_timeout', 'e', t0 + 22));
    // A repeated queued event does not move a session to the back.
    tracker.onStateEvent(event('cluster.queued', 'b', t0 + 23));
    expect(await positions(tracker, ['a', 'b', 'c', 'd', 'e', 'f', 'e0'])).toEqual([null, 1, null, 2, null, 3, 4]);
    expect(await positions(tracker, ['x'], '99')).toEqual([1]);
    expect(await tracker.standing(record('b', 'FULFILLED', t0))).toBeNull();
  });

  it('estimates position × mean interval once MIN_EVIDENCE fulfilments were seen', async () => {
    const { tracker, now } = await make();
    const t0 = 1_800_000_100_000;
    for (let i = 0; i < 12; i += 1) tracker.onStateEvent(event('cluster.queued', `q${i}`, t0));
    // Fulfilments every second from t0 + 1 s.
    for (let i = 0; i < 3; i += 1) tracker.onStateEvent(event('cluster.fulfilled', `q${i}`, t0 + 1_000 * (i + 1)));
    now.value = t0 + 3_100;
    await tracker.settled();
    expect(await tracker.standing(record('q3', 'QUEUED', t0))).toEqual({ queuePosition: 1, estimatedWaitMs: null });
    tracker.onStateEvent(event('cluster.fulfilled', 'q3', t0 + 4_000));
    now.value = t0 + 4_100;
    await tracker.settled();
    expect(await tracker.standing(record('q4', 'QUEUED', t0))).toEqual({ queuePosition: 1, estimatedWaitMs: 1_000 });
    expect(await tracker.standing(record('q11', 'QUEUED', t0))).toEqual({ queuePosition: 8, estimatedWaitMs: 8_000 });
  });

  it('counts the poll lag: out of the span from the queue start, into the session\'s own wait', async () => {
    const { tracker, now } = await make();
    const t0 = 1_800_000_500_000;
    for (let i = 0; i < 6; i += 1) tracker.onStateEvent(event('cluster.queued', `l${i}`, t0, TITLE, 400));
    // Served every second but seen 200 ms late on average (polled every 400 ms): 4 in 4.2 s is still 1 s each.
    for (let i = 0; i < 4; i += 1) tracker.onStateEvent(event('cluster.fulfilled', `l${i}`, t0 + 1_000 * (i + 1) + 200, TITLE, 400));
    now.value = t0 + 4_300;
    await tracker.settled();
    // Position 2: 2 × 1 s, plus the 200 ms until this session's own poll sees it served.
    expect(await tracker.standing(record('l5', 'QUEUED', t0, TITLE, 400))).toEqual({ queuePosition: 2, estimatedWaitMs: 2_200 });
  });

  it('stops the clock while nothing is queued', async () => {
    const { tracker, now } = await make();
    const t0 = 1_800_000_200_000;
    for (let i = 0; i < 4; i += 1) tracker.onStateEvent(event('cluster.queued', `r${i}`, t0));
    for (let i = 0; i < 4; i += 1) tracker.onStateEvent(event('cluster.fulfilled', `r${i}`, t0 + 1_000 * (i + 1)));
    // An hour with an empty line, then a new queue: the old pace still holds, the hour does not count.
    const t1 = t0 + 3_600_000;
    tracker.onStateEvent(event('cluster.queued', 'late', t1));
    tracker.onStateEvent(event('cluster.queued', 'later', t1 + 1));
    now.value = t1 + 100;
    await tracker.settled();
    expect(await tracker.standing(record('later', 'QUEUED', t1))).toEqual({ queuePosition: 2, estimatedWaitMs: 2_000 });
  });
}

describe('in memory', () => {
  trackerBehaviour(async () => {
    const now = { value: 0 };
    return { tracker: new MemoryQueueTracker(() => now.value), now };
  });

  it('keeps positions right across many arrivals and departures (slot compaction)', async () => {
    const tracker = new MemoryQueueTracker();
    const line: string[] = [];
    let n = 0;
    for (let round = 0; round < 200; round += 1) {
      for (let i = 0; i < 5; i += 1) {
        const name = `m${n++}`;
        tracker.onStateEvent(event('cluster.queued', name, 1_800_000_000_000 + n));
        line.push(name);
      }
      for (const index of [0, 2]) {
        const [gone] = line.splice(index % line.length, 1);
        tracker.onStateEvent(event('cluster.fulfilled', gone!, 1_800_000_000_000 + n));
      }
    }
    expect(await positions(tracker, line)).toEqual(line.map((_, i) => i + 1));
  });
});

describe('in Redis', () => {
  let url: string;
  let dispose: () => Promise<void>;
  const clients: Redis[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    ({ url, dispose } = await sharedRedis());
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(url, prefix);
    for (const client of clients) client.disconnect();
    await dispose();
  });

  function redisTracker(prefix: string, now: { value: number }, staleAfterMs?: number): RedisQueueTracker {
    const redis = new Redis(url);
    clients.push(redis);
    return new RedisQueueTracker({ redis, keyPrefix: prefix, logger: silent, now: () => now.value, staleAfterMs });
  }

  trackerBehaviour(async () => {
    const prefix = uniquePrefix('queue');
    prefixes.push(prefix);
    const now = { value: 0 };
    return { tracker: redisTracker(prefix, now), now };
  });

  it('shares one order across instances, and keeps each title in one slot', async () => {
    const prefix = uniquePrefix('queue');
    prefixes.push(prefix);
    const now = { value: 1_800_000_300_000 };
    const [one, two] = [redisTracker(prefix, now), redisTracker(prefix, now)];
    one.onStateEvent(event('cluster.queued', 'p', now.value));
    await one.settled();
    two.onStateEvent(event('cluster.queued', 'q', now.value + 1));
    await two.settled();
    expect(await positions(one, ['p', 'q'])).toEqual([1, 2]);
    two.onStateEvent(event('cluster.fulfilled', 'p', now.value + 5));
    await two.settled();
    expect(await positions(one, ['p', 'q'])).toEqual([null, 1]);
    const keys = await clients[0]!.keys(`${prefix}*`);
    expect(new Set(keys.map((key) => /\{t:[^}]+\}/.exec(key)?.[0]))).toEqual(new Set([`{t:${TITLE}}`]));
  });

  it('drops entries nobody polls any more (an instance died between store and update), and re-enters a polled one', async () => {
    const prefix = uniquePrefix('queue');
    prefixes.push(prefix);
    const now = { value: 1_800_000_400_000 };
    const tracker = redisTracker(prefix, now, 10_000);
    tracker.onStateEvent(event('cluster.queued', 'ghost', now.value));
    tracker.onStateEvent(event('cluster.queued', 'live', now.value + 1));
    await tracker.settled();
    expect((await tracker.standing(record('live', 'QUEUED', now.value), { polled: true }))?.queuePosition).toBe(2);
    // 'ghost' was fulfilled on an instance that died before telling the tracker: nobody polls it again.
    now.value += 11_000;
    expect((await tracker.standing(record('live', 'QUEUED', now.value), { polled: true }))?.queuePosition).toBe(1);
    // A session missing from the line (e.g. queued before the tracker ran) enters at its request time when polled.
    const early = record('early', 'QUEUED', now.value - 60_000);
    expect(await tracker.standing(early)).toBeNull();
    expect((await tracker.standing(early, { polled: true }))?.queuePosition).toBe(1);
    expect((await tracker.standing(record('live', 'QUEUED', now.value)))?.queuePosition).toBe(2);
  });
});
