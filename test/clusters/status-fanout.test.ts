/**
 * The shared per-session listener behind `clusterStatus`: one pub/sub listener per session however many
 * subscribe, each subscriber seeing its starting state then newer changes, released when the last leaves.
 * Real in-memory pub/sub (yoga's createPubSub over an EventTarget that counts its listeners).
 */
import { describe, expect, it } from 'vitest';
import type { ClusterRecord } from '../../src/clusters/cluster-record.js';
import { createClusterPubSub, publishChange, type ClusterEvent, type ClusterEventTarget } from '../../src/clusters/pubsub.js';
import { statusFanout } from '../../src/clusters/status-fanout.js';

const SESSION = '/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/sessions/fanout';

function record(version: number, state: ClusterRecord['state'] = 'QUEUED'): ClusterRecord {
  const at = new Date(0).toISOString();
  return {
    sessionId: SESSION,
    titleId: '1234567890',
    state,
    pollIntervalMs: 1000,
    hostName: state === 'FULFILLED' ? 'gs-1.emulator.local' : null,
    region: null,
    portMappings: [],
    secureContext: null,
    correlationId: null,
    requestedAt: at,
    updatedAt: at,
    watchStartedAt: at,
    requesters: ['player-one'],
    pollCount: version,
    version,
  };
}

class CountingEventTarget extends EventTarget {
  listeners = 0;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners += 1;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners -= 1;
    super.removeEventListener(...args);
  }
}

function setup() {
  const target = new CountingEventTarget();
  const pubsub = createClusterPubSub(target as unknown as ClusterEventTarget);
  return { target, pubsub, fanout: statusFanout(pubsub) };
}

async function drain(stream: AsyncIterable<ClusterEvent>): Promise<ClusterEvent[]> {
  const events: ClusterEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const states = (events: ClusterEvent[]) => events.map((e) => (e.type === 'status' ? `${e.record.state}@${e.record.version}` : e.code));

describe('clusterStatus subscribers of one session', () => {
  it('share one pub/sub listener, each get the start state then newer changes, and release it when done', async () => {
    const { target, pubsub, fanout } = setup();
    const streams = [fanout.follow(SESSION), fanout.follow(SESSION), fanout.follow(SESSION)];
    expect(target.listeners).toBe(1);
    expect(fanout.size).toBe(1);
    for (const stream of streams) stream.start(record(1));
    const collected = Promise.all(streams.map(drain));

    publishChange(pubsub, record(1)); // already seen: dropped
    publishChange(pubsub, record(2, 'FULFILLED'));
    const results = await collected;

    for (const events of results) expect(states(events)).toEqual(['QUEUED@1', 'FULFILLED@2']);
    expect(fanout.size).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(target.listeners).toBe(0);
  });

  it('keeps a change published between listening and reading the registry, if it is newer', async () => {
    const { pubsub, fanout } = setup();
    const stream = fanout.follow(SESSION);
    publishChange(pubsub, record(2));
    publishChange(pubsub, record(3, 'FULFILLED'));
    stream.start(record(2));
    expect(states(await drain(stream))).toEqual(['QUEUED@2', 'FULFILLED@3']);
  });

  it('ends after a terminal starting state without waiting for changes', async () => {
    const { fanout } = setup();
    const stream = fanout.follow(SESSION);
    stream.start(record(4, 'ABORTED'));
    expect(states(await drain(stream))).toEqual(['ABORTED@4']);
    expect(fanout.size).toBe(0);
  });

  it('passes the end of watching on and ends', async () => {
    const { pubsub, fanout } = setup();
    const stream = fanout.follow(SESSION);
    stream.start(record(1));
    const events = drain(stream);
    pubsub.publish('cluster:status', SESSION, { type: 'watch-ended', code: 'WATCH_TIMEOUT', message: 'still queued' });
    expect(states(await events)).toEqual(['QUEUED@1', 'WATCH_TIMEOUT']);
  });

  it('lets one subscriber leave without disturbing the others; the last one out releases the listener', async () => {
    const { target, pubsub, fanout } = setup();
    const leaving = fanout.follow(SESSION);
    const staying = fanout.follow(SESSION);
    leaving.start(record(1));
    staying.start(record(1));
    await leaving.next();
    await expect(leaving.return()).resolves.toEqual({ done: true, value: undefined });
    await expect(leaving.next()).resolves.toEqual({ done: true, value: undefined });
    expect(target.listeners).toBe(1);

    const events = drain(staying);
    publishChange(pubsub, record(2, 'FULFILLED'));
    expect(states(await events)).toEqual(['QUEUED@1', 'FULFILLED@2']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(target.listeners).toBe(0);
  });
});
