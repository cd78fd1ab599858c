/**
 * The poll path's half of queue standing: the announcer publishes a status event with the new standing only
 * when it changed meaningfully (at most once per poll), forgets sessions that left the line, and a
 * `clusterStatus` stream passes such an event on at the same record version while still dropping a plain
 * repeat of that version. Real in-memory pub/sub and tracker.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterRecord } from '../../src/clusters/cluster-record.js';
import { createClusterPubSub, type ClusterEvent } from '../../src/clusters/pubsub.js';
import { QueueAnnouncer } from '../../src/clusters/queue-announcer.js';
import { MemoryQueueTracker } from '../../src/clusters/queue-memory.js';
import type { ClusterStateEvent } from '../../src/clusters/state-events.js';
import { statusFanout } from '../../src/clusters/status-fanout.js';
import { queueRecord } from '../support/queue-fixtures.js';

const T0 = 1_800_000_000_000;

/** Session `name`'s record at T0, at a given version. */
const record = (name: string, state: ClusterRecord['state'] = 'QUEUED', version = 1): ClusterRecord => ({
  ...queueRecord(name, state, T0),
  pollCount: version,
  version,
});

const event = (type: ClusterStateEvent['type'], name: string, at: number): ClusterStateEvent => ({
  id: `evt_${name}_${type}`,
  type,
  at: new Date(at).toISOString(),
  record: record(name, type === 'cluster.fulfilled' ? 'FULFILLED' : 'QUEUED'),
});

describe('QueueAnnouncer', () => {
  it('publishes a new standing once per poll at most, only when it changed meaningfully', async () => {
    const pubsub = createClusterPubSub();
    const now = { value: T0 };
    const announcer = new QueueAnnouncer(new MemoryQueueTracker(() => now.value), pubsub, () => now.value);
    const published: ClusterEvent[] = [];
    const source = pubsub.subscribe('cluster:status', '/s/c')[Symbol.asyncIterator]();
    const pump = (async () => {
      for (let r = await source.next(); !r.done; r = await source.next()) published.push(r.value);
    })();

    for (const name of ['a', 'b', 'c']) announcer.onStateEvent(event('cluster.queued', name, T0));
    await announcer.afterPoll(record('c'));
    // Unchanged at the next poll: nothing published.
    await announcer.afterPoll(record('c'));
    expect(announcer.size).toBe(1);
    // Another session served: nothing published until c's own next poll, then its new place.
    announcer.onStateEvent(event('cluster.fulfilled', 'a', T0 + 1_000));
    await announcer.afterPoll(record('c'));
    // Events arrive in order, so exactly these two mean the unchanged poll and the fulfilment published nothing.
    await expect.poll(() => published.length).toBe(2);
    expect(published).toEqual([
      { type: 'status', record: record('c'), standing: { queuePosition: 3, estimatedWaitMs: null } },
      { type: 'status', record: record('c'), standing: { queuePosition: 2, estimatedWaitMs: null } },
    ]);

    // A terminal change forgets what was published for the session.
    announcer.onStateEvent(event('cluster.fulfilled', 'c', T0 + 2_000));
    expect(announcer.size).toBe(0);
    await source.return?.();
    await pump;
  });

  it('reaches a clusterStatus stream at the same version, which still drops a plain repeat', async () => {
    const pubsub = createClusterPubSub();
    const stream = statusFanout(pubsub).follow('/s/d');
    stream.start(record('d', 'QUEUED', 2));
    pubsub.publish('cluster:status', '/s/d', { type: 'status', record: record('d', 'QUEUED', 2) });
    const standing = { queuePosition: 1, estimatedWaitMs: 500 };
    pubsub.publish('cluster:status', '/s/d', { type: 'status', record: record('d', 'QUEUED', 2), standing });
    pubsub.publish('cluster:status', '/s/d', { type: 'status', record: record('d', 'FULFILLED', 3) });
    const seen: ClusterEvent[] = [];
    for await (const e of stream) seen.push(e);
    expect(seen.map((e) => (e.type === 'status' ? [e.record.version, e.record.state, e.standing ?? null] : e.type))).toEqual([
      [2, 'QUEUED', null],
      [2, 'QUEUED', standing],
      [3, 'FULFILLED', null],
    ]);
  });
});
