/**
 * Liveness refreshes in Redis (queue-redis.ts, "Stale entries") go out with the title's batch: however many
 * sessions are due in one batch window, their refreshes cost the title's master the same few commands, and
 * still drop stale entries, put back polled sessions missing from the line, and leave positions exact.
 * On a private redis-server, so its command counts are these tests' alone.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterRecord } from '../../src/clusters/cluster-record.js';
import { RedisQueueTracker } from '../../src/clusters/queue-redis.js';
import { QUEUE_TITLE as TITLE, commandCalls as calls, queueEvent as event, queueRecord, silentLogger as silent } from '../support/queue-fixtures.js';
import { spawnRedisServer, uniquePrefix, type SpawnedRedis } from '../support/redis.js';

const T0 = 1_800_002_000_000;
const STALE_AFTER_MS = 10_000;

/** A queued session's record, requested at `requestedAt`. */
const record = (name: string, requestedAt: number): ClusterRecord => queueRecord(name, 'QUEUED', requestedAt);

describe('liveness refreshes due in one batch window cost a constant number of commands', () => {
  let server: SpawnedRedis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    server = await spawnRedisServer();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.dispose();
  });

  function client(): Redis {
    const made = new Redis(server.url);
    clients.push(made);
    return made;
  }

  /** A title's line of `size` sessions, queued elsewhere, and a watcher (the polling instance) on a clock. */
  async function line(size: number) {
    const prefix = uniquePrefix('queue-liveness');
    const clock = { value: T0 };
    const make = () => new RedisQueueTracker({ redis: client(), keyPrefix: prefix, logger: silent, now: () => clock.value, staleAfterMs: STALE_AFTER_MS });
    const [watcher, other] = [make(), make()];
    const inspector = client();
    const key = `${prefix}queue:{t:${TITLE}}`;
    const requestedAt = new Map<string, number>();
    const queue = (name: string, at: number) => {
      requestedAt.set(name, at);
      other.onStateEvent(event('cluster.queued', name, at));
    };
    const names = Array.from({ length: size }, (_, i) => `n${i}`);
    names.forEach((name, i) => queue(name, T0 + 10 * i));
    await other.settled();
    const order = async () => (await inspector.zrange(key, 0, -1)).map((id) => id.slice('/s/'.length));
    /** Polls `polled` at once, as the pollers of one instance do within a batch window: the positions shown. */
    const poll = async (polled: readonly string[]) => {
      const standings = await Promise.all(polled.map((name) => watcher.standing(record(name, requestedAt.get(name)!), { polled: true })));
      return Object.fromEntries(polled.map((name, i) => [name, standings[i]?.queuePosition ?? null]));
    };
    /** The positions in Redis: what `poll` must show. */
    const truth = async (polled: readonly string[]) => {
      const now = await order();
      return Object.fromEntries(polled.map((name) => [name, now.includes(name) ? now.indexOf(name) + 1 : null]));
    };
    /** The commands Redis ran (scripts' own commands included) while `work` ran. */
    const cost = async (work: () => Promise<void>) => {
      const from = await calls(inspector);
      await work();
      const to = await calls(inspector);
      // Less the first INFO, counted once it has run.
      to.info = to.info! - 1;
      return Object.fromEntries(Object.keys(to).map((command) => [command, to[command]! - (from[command] ?? 0)]).filter(([, delta]) => delta !== 0));
    };
    return { watcher, other, inspector, key, clock, names, queue, order, poll, truth, cost, requestedAt };
  }

  it('refreshes every session due with one script call and a few commands, for 10 sessions as for 300', async () => {
    const costs: Record<string, number>[] = [];
    for (const size of [10, 300]) {
      const { names, clock, poll, truth, cost, inspector, key } = await line(size);
      // First polls here: each session is ranked once (and refreshed).
      expect(await poll(names)).toEqual(await truth(names));
      // A quarter of staleAfterMs later, every session is due again in the same batch window.
      clock.value += STALE_AFTER_MS / 4;
      let shown: Record<string, number | null> = {};
      const spent = await cost(async () => {
        shown = await poll(names);
      });
      expect(shown).toEqual(await truth(names));
      // They were refreshed: every `seen` score is now.
      expect(await inspector.zcount(`${key}:seen`, clock.value, clock.value), `size ${size}`).toBe(size);
      costs.push(spent);
    }
    // One batch: one script call, one ZADD of `seen`, one ZMSCORE (none missing), one stale scan (nothing
    // stale), the line read as unchanged (one HMGET), no rank read.
    expect(costs[0]).toEqual({ evalsha: 1, zadd: 1, zmscore: 1, zrangebyscore: 1, hmget: 1 });
    expect(costs[1]).toEqual(costs[0]);
  });

  it('drops stale entries ahead and puts back missing sessions in that call, positions staying exact, for few as for many', async () => {
    const costs: Record<string, number>[] = [];
    for (const [size, lost] of [
      [10, 1],
      [200, 20],
    ] as const) {
      const { watcher, other, names, clock, poll, truth, cost, queue, order, requestedAt } = await line(size);
      // Ghosts ahead of everyone: fulfilled on an instance that died before telling the tracker; nobody polls them.
      for (let i = 0; i < 3; i += 1) queue(`ghost${i}`, T0 - 100 + i);
      await other.settled();
      expect((await poll(names)).n0).toBe(4);
      // Entries lost from the line (taken out elsewhere, as by an update that never came back).
      const missing = names.filter((_, i) => i % Math.floor(size / lost) === 1).slice(0, lost);
      for (const name of missing) other.onStateEvent(event('cluster.watch_timeout', name, T0 + 5_000));
      await other.settled();
      expect(await order()).not.toContain(missing[0]);

      // Past staleAfterMs: the ghosts are stale; every watched session is due for a refresh.
      clock.value += STALE_AFTER_MS + 1;
      let shown: Record<string, number | null> = {};
      const spent = await cost(async () => {
        shown = await poll(names);
      });
      expect(shown).toEqual(await truth(names));
      const now = await order();
      expect(now, `size ${size}`).toEqual([...names].sort((a, b) => requestedAt.get(a)! - requestedAt.get(b)!));
      expect(now.filter((name) => name.startsWith('ghost'))).toEqual([]);
      // A lost session is back at its request time: its old rank cannot be brought forward over its own
      // removal, so it is ranked again (in the next batch, a second call).
      expect(spent.evalsha).toBeLessThanOrEqual(2);
      costs.push({ zadd: spent.zadd!, zmscore: spent.zmscore!, zrangebyscore: spent.zrangebyscore!, zrem: spent.zrem!, lpush: spent.lpush!, hincrby: spent.hincrby! });
      expect(await watcher.standing(record('n0', requestedAt.get('n0')!))).toMatchObject({ queuePosition: 1 });
    }
    // The refresh's own commands: ZADD `seen` and ZADD of those missing, ZMSCORE of those due and of the
    // stale, one stale scan, ZREM from the line and from `seen`, the changes logged in one LPUSH.
    expect(costs[0]).toEqual({ zadd: 2, zmscore: 2, zrangebyscore: 1, zrem: 2, lpush: 1, hincrby: 1 });
    expect(costs[1]).toEqual(costs[0]);
  });

  it('counts a refresh still waiting for its batch in settled(), and lets an event cancel it', async () => {
    const { watcher, other, names, order, requestedAt } = await line(3);
    other.onStateEvent(event('cluster.watch_timeout', 'n1', T0 + 1_000));
    await other.settled();
    expect(await order()).toEqual(['n0', 'n2']);
    // n1's first poll here puts it back; n2's is followed at once by its fulfilment here, which its refresh,
    // sent later with the batch, must not undo.
    const standings = names.map((name) => watcher.standing(record(name, requestedAt.get(name)!), { polled: true }));
    watcher.onStateEvent(event('cluster.fulfilled', 'n2', T0 + 2_000));
    await watcher.settled();
    expect(await order()).toEqual(['n0', 'n1']);
    expect((await Promise.all(standings)).map((standing) => standing?.queuePosition ?? null)).toEqual([1, 2, null]);
  });
});
