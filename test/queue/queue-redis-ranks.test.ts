/**
 * Positions in Redis without a ZRANK per poll (queue-redis.ts, "Per poll"): an instance brings the ranks it
 * read forward through the title's change log. They must stay exactly the ranks in Redis while the line moves
 * (issue 14: sessions are served in the order of the positions shown), on one primary and on a 3-master Redis
 * Cluster; and polling a line, moving or not, costs no ZRANK after each session's first poll.
 */
import type { Cluster, Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisQueueTracker } from '../../src/clusters/queue-redis.js';
import { QUEUE_TITLE as TITLE, commandCalls as calls, queueEvent as event, queueRecord as record, silentLogger as silent } from '../support/queue-fixtures.js';
import { spawnRedisServer, uniquePrefix, type SpawnedRedis } from '../support/redis.js';
import { startRedis, type TestRedis, type TopologyName } from '../scale-out/topologies.js';

const T0 = 1_800_001_000_000;

/** A line of sessions and what happens to it, applied through trackers (instances) like the registries do. */
class Line {
  /** Each session's request time (what a put-back re-enters at). */
  readonly requestedAt = new Map<string, number>();
  #clock = T0 + 1_000_000;

  constructor(
    readonly redis: Redis | Cluster,
    private readonly key: string,
  ) {}

  queue(via: RedisQueueTracker, name: string, at = (this.#clock += 1)): void {
    this.requestedAt.set(name, at);
    via.onStateEvent(event('cluster.queued', name, at));
  }

  leave(via: RedisQueueTracker, name: string, type: 'cluster.fulfilled' | 'cluster.aborted' | 'cluster.watch_timeout' = 'cluster.fulfilled'): void {
    via.onStateEvent(event(type, name, (this.#clock += 1)));
  }

  /** Every session ever queued here. */
  get names(): string[] {
    return [...this.requestedAt.keys()];
  }

  /** The order in Redis, read directly: the truth every instance's positions must equal. */
  async order(): Promise<string[]> {
    return (await this.redis.zrange(this.key, 0, -1)).map((id) => id.slice('/s/'.length));
  }

  /**
   * What `watcher` shows, beside the truth read after it: `polled` as a poller would (its first poll here runs
   * the liveness script), `asked` without polling (as a query would; a first poll of a session out of line
   * would put it back).
   */
  async positions(watcher: RedisQueueTracker, polled: readonly string[], asked: readonly string[] = []): Promise<{ shown: Record<string, number | null>; truth: Record<string, number | null> }> {
    const names = [...polled, ...asked];
    const standings = await Promise.all(
      names.map((name) => watcher.standing(record(name, 'QUEUED', this.requestedAt.get(name)!), { polled: polled.includes(name) })),
    );
    const order = await this.order();
    return {
      shown: Object.fromEntries(names.map((name, i) => [name, standings[i]?.queuePosition ?? null])),
      truth: Object.fromEntries(names.map((name) => [name, order.includes(name) ? order.indexOf(name) + 1 : null])),
    };
  }
}

/** Deterministic choices, so a failure can be replayed. */
function chooser(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    // The high bits: an LCG's low bits repeat with a short period.
    return Math.floor((state / 2 ** 31) * n);
  };
}

describe.each(['single', 'cluster'] as TopologyName[])('positions stay the ranks in Redis while the line moves (%s)', (topology) => {
  let redis: TestRedis;
  const clients: (Redis | Cluster)[] = [];
  const prefix = uniquePrefix('queue-ranks');

  beforeAll(async () => {
    redis = await startRedis(topology);
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.deleteKeys(prefix);
    await redis?.dispose();
  });

  /** Instances on their own keys (`make` more: a watcher polling, another applying most changes) and their line. */
  function instances(label: string, options: { now?: () => number; staleAfterMs?: number } = {}) {
    const keyPrefix = `${prefix}${label}:`;
    const connect = () => {
      const client = redis.client();
      clients.push(client);
      return client;
    };
    const make = () => new RedisQueueTracker({ redis: connect(), keyPrefix, logger: silent, now: options.now ?? (() => T0), staleAfterMs: options.staleAfterMs });
    const line = new Line(connect(), `${keyPrefix}queue:{t:${TITLE}}`);
    const watcher = make();
    /** The watcher's positions of the whole line equal the ranks in Redis. */
    const check = async () => {
      const { shown, truth } = await line.positions(watcher, await line.order());
      expect(shown).toEqual(truth);
    };
    return { watcher, other: make(), make, line, check, keyPrefix };
  }

  it('equals ZRANK after arrivals ahead and behind, fulfilments, aborts, a put-back and a re-entry, applied here and elsewhere', { timeout: 60_000 }, async () => {
    const { watcher, other, make, line, check } = instances('moving');
    // Ten milliseconds apart, so later arrivals can be placed between them.
    for (let i = 0; i < 30; i += 1) line.queue(i % 3 === 0 ? watcher : other, `s${i}`, T0 + 10 * i);
    await Promise.all([watcher.settled(), other.settled()]);
    await check();
    const outOf = (order: readonly string[]) => line.names.filter((name) => !order.includes(name));

    const pick = chooser(14);
    for (let round = 0; round < 12; round += 1) {
      const order = await line.order();
      // Elsewhere: the head is served, one from anywhere aborts, one arrives behind and one ahead of most.
      line.leave(other, order[0]!);
      line.leave(other, order[1 + pick(order.length - 1)]!, 'cluster.aborted');
      line.queue(other, `late${round}`);
      line.queue(other, `early${round}`, T0 + 10 * pick(30) + 5);
      if (round % 3 === 1) {
        // An entry lost (its instance died before the update): the adopting instance's first poll puts it
        // back at its request time, ahead of everyone who came later.
        const lost = order[Math.floor(order.length / 2) + pick(4)]!;
        line.leave(other, lost, 'cluster.watch_timeout');
        await other.settled();
        const adopter = make();
        await adopter.standing(record(lost, 'QUEUED', line.requestedAt.get(lost)!), { polled: true });
      }
      if (round % 4 === 2) {
        // Served, then requested again: to the back, at the time of that change.
        const again = order[2 + pick(order.length - 2)]!;
        line.leave(other, again);
        line.queue(other, again);
      }
      await other.settled();
      // Here, not awaited: the watcher's reads go out after its own update on the same connection.
      const current = await line.order();
      const gone = current[pick(5)]!;
      line.leave(watcher, gone);
      line.queue(watcher, `here${round}`, T0 + 10 * pick(30) + 7);
      const inLine = current.filter((name) => name !== gone).concat(`here${round}`);
      const { shown, truth } = await line.positions(watcher, inLine, outOf(inLine));
      expect(shown, `round ${round}`).toEqual(truth);
    }
  });

  it('equals ZRANK after another instance\'s poll drops a stale entry ahead', async () => {
    const now = { value: T0 };
    const { watcher, other, line } = instances('stale', { now: () => now.value, staleAfterMs: 10_000 });
    // 'ghost' was served on an instance that died before telling the tracker: nobody polls it again.
    line.queue(other, 'ghost', T0 - 10);
    for (let i = 0; i < 8; i += 1) line.queue(other, `w${i}`, T0 + i);
    line.queue(other, 'x', T0 + 100);
    await other.settled();
    const watched = line.names.filter((name) => name.startsWith('w'));
    expect((await line.positions(watcher, watched)).shown).toEqual(Object.fromEntries(watched.map((name, i) => [name, i + 2])));
    // Polled every 2.4 s: each poll but every other one reads from the watcher's copy, the others refresh
    // liveness (a quarter of staleAfterMs), so the watched stay in line while 'ghost' goes stale.
    for (const step of [2_400, 4_800, 7_200, 9_600, 12_000]) {
      now.value = T0 + step;
      expect((await line.positions(watcher, watched)).shown).toEqual(Object.fromEntries(watched.map((name, i) => [name, i + 2])));
      now.value += 10;
    }
    // Another instance's first poll of 'x' drops the ghost, which nobody polled for staleAfterMs.
    expect(await other.standing(record('x', 'QUEUED', T0 + 100), { polled: true })).toMatchObject({ queuePosition: 9 });
    now.value += 10;
    const { shown, truth } = await line.positions(watcher, watched, ['ghost']);
    expect(shown).toEqual(truth);
    expect(shown.w0).toBe(1);
  });

  it('equals ZRANK when two reads of the title were out at once (full batches) and brought the same changes', async () => {
    const { watcher, other, line, check } = instances('full');
    for (let i = 0; i < 10; i += 1) line.queue(other, `f${i}`, T0 + 10 * i);
    await other.settled();
    await check();
    await check();
    for (const round of [0, 1, 2]) {
      line.queue(other, `fa${round}`, T0 + 1 + round);
      line.leave(other, (await line.order()).at(-1)!);
      await other.settled();
      // 1,000 asks go out as two full batches at once, both reading the same changes.
      const order = (await line.order()).filter((name) => name.startsWith('f') && !name.startsWith('fa'));
      const ask = () => Promise.all(order.map((name) => watcher.standing(record(name, 'QUEUED', line.requestedAt.get(name)!))));
      const shown = await Promise.all(Array.from({ length: Math.ceil(1_000 / order.length) + 1 }, ask));
      const truth = await line.order();
      const expected = order.map((name) => truth.indexOf(name) + 1);
      for (const standings of shown) expect(standings.map((standing) => standing?.queuePosition), `round ${round}`).toEqual(expected);
      await check();
    }
  });

  it('equals ZRANK when the log no longer reaches back (more changes than it keeps) or was rolled back (a failover)', { timeout: 60_000 }, async () => {
    const { watcher, other, line, check, keyPrefix } = instances('gap');
    for (let i = 0; i < 20; i += 1) line.queue(other, `g${i}`, T0 + 10 * i);
    await other.settled();
    await check();

    // More comings and goings ahead of everyone than the log keeps, then one more in the middle.
    for (let i = 0; i < 2_100; i += 1) {
      line.queue(other, `burst${i}`, T0 - 1_000 + (i % 500));
      line.leave(other, `burst${i}`, 'cluster.aborted');
    }
    line.queue(other, 'middle', T0 + 95);
    await other.settled();
    // Those asked first are read again at once; the rest, asked later, must not be brought forward over the gap.
    const first = await line.positions(watcher, ['g0', 'g1', 'g2']);
    expect(first.shown).toEqual(first.truth);
    await check();

    // A failover that lost two changes the watcher has read, after which two others were written.
    const key = `${keyPrefix}queue:{t:${TITLE}}`;
    const keys = [key, `${key}:seen`, `${key}:meta`, `${key}:log`];
    const saved = await Promise.all(keys.map((k) => line.redis.dumpBuffer(k)));
    line.leave(other, 'g0');
    line.queue(other, 'lostAhead', T0 + 5);
    await other.settled();
    await check();
    await Promise.all(keys.map((k, i) => line.redis.restore(k, 0, saved[i]!, 'REPLACE')));
    line.requestedAt.delete('lostAhead');
    line.leave(other, 'g19');
    line.queue(other, 'newAhead', T0 + 15);
    await other.settled();
    await check();
  });
});

describe('polling costs no ZRANK after each session\'s first poll', () => {
  let server: SpawnedRedis;
  const clients: RedisClient[] = [];

  beforeAll(async () => {
    // A private server: its command counts are this test's alone.
    server = await spawnRedisServer();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.dispose();
  });

  function client(): RedisClient {
    const made = new RedisClient(server.url);
    clients.push(made);
    return made;
  }

  it('reads the line once per batch, with a constant number of commands, whether the line stands still or moves', async () => {
    const prefix = uniquePrefix('queue-cost');
    const make = () => new RedisQueueTracker({ redis: client(), keyPrefix: prefix, logger: silent, now: () => T0 });
    const [watcher, other] = [make(), make()];
    const inspector = client();
    const line = new Line(inspector, `${prefix}queue:{t:${TITLE}}`);
    for (let i = 0; i < 50; i += 1) line.queue(other, `c${i}`, T0 + 2 * i);
    await other.settled();

    const poll = async (names?: string[]) => {
      const { shown, truth } = await line.positions(watcher, names ?? (await line.order()));
      expect(shown).toEqual(truth);
    };
    // First polls: the liveness script ranks each session once.
    await poll();
    const before = await calls(inspector);
    expect(before.zrank).toBe(50);

    for (let round = 0; round < 3; round += 1) {
      const from = await calls(inspector);
      await poll();
      const to = await calls(inspector);
      const delta = (command: string) => (to[command] ?? 0) - (from[command] ?? 0);
      // One batch for all 50 polls: one HMGET (the line has not changed: no LRANGE), no rank.
      expect({ zrank: delta('zrank'), zscore: delta('zscore'), hmget: delta('hmget'), lrange: delta('lrange') }).toEqual({ zrank: 0, zscore: 0, hmget: 1, lrange: 0 });
    }

    // The line moves elsewhere: served at the head, aborted in the middle, arrivals ahead and behind.
    const order = await line.order();
    for (const name of order.slice(0, 5)) line.leave(other, name);
    line.leave(other, order[20]!, 'cluster.aborted');
    line.queue(other, 'ahead', T0 + 31);
    line.queue(other, 'behind', T0 + 1_000);
    await other.settled();
    const from = await calls(inspector);
    await poll((await line.order()).filter((name) => name.startsWith('c')));
    const to = await calls(inspector);
    const delta = (command: string) => (to[command] ?? 0) - (from[command] ?? 0);
    // The changes since come with the same call: one LRANGE, still no rank.
    expect({ zrank: delta('zrank'), zscore: delta('zscore'), hmget: delta('hmget'), lrange: delta('lrange') }).toEqual({ zrank: 0, zscore: 0, hmget: 1, lrange: 1 });
    // The newcomers' first polls rank them once; then everyone is exact again.
    await poll();
  });
});
