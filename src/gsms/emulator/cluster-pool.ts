/**
 * The emulator's state, free of HTTP. Per title: the clusters running now (at most `capacity`) and a FIFO queue
 * of sessions waiting for one. A session has at most one request per title, so posting again answers the same
 * request (the spec's idempotency). A cluster ends after its lifetime: its capacity frees, its session forgets
 * its request, and the queue's head is served at once so its next post answers Fulfilled.
 */
import { randomBytes } from 'node:crypto';
import type { PortMapping } from '../wire.js';

export interface Cluster {
  hostName: string;
  region: string;
  portMappings: PortMapping[];
  secureContext: string;
}

export type SessionRequest = { state: 'FULFILLED'; cluster: Cluster } | { state: 'QUEUED' | 'ABORTED' };

export interface ClusterPoolOptions {
  capacity: number;
  clusterLifetimeMs: number;
  random?: () => number;
}

interface RunningCluster {
  cluster: Cluster;
  timer: NodeJS.Timeout;
}

interface TitleState {
  running: Map<string, RunningCluster>;
  /** A Set keeps insertion order, so it is a FIFO queue with O(1) membership and removal. */
  queue: Set<string>;
}

const REGIONS = ['WestUS', 'EastUS', 'NorthEurope', 'WestEurope', 'SoutheastAsia'] as const;
const GAME_PORT = 7777;
const VOICE_PORT = 7778;
const EXTERNAL_PORT_MIN = 30_000;
const EXTERNAL_PORT_SPAN = 10_000;

export class ClusterPool {
  private readonly titles = new Map<string, TitleState>();
  private readonly random: () => number;
  private capacity: number;
  private allocated = 0;

  constructor(private readonly options: ClusterPoolOptions) {
    this.capacity = options.capacity;
    this.random = options.random ?? Math.random;
  }

  /** Answers a post for a session: its current request if it has one, else a new one (or Aborted). */
  request(titleId: string, sessionKey: string, abortIfQueued: boolean): SessionRequest {
    const title = this.titles.get(titleId);
    const running = title?.running.get(sessionKey);
    if (running) return { state: 'FULFILLED', cluster: running.cluster };
    if (title?.queue.has(sessionKey)) return { state: 'QUEUED' };
    const state = title ?? this.addTitle(titleId);
    if (state.queue.size === 0 && state.running.size < this.capacity) {
      return { state: 'FULFILLED', cluster: this.allocate(titleId, state, sessionKey) };
    }
    if (abortIfQueued) {
      // An Aborted request is not stored: posting again is a new request.
      this.forgetIfIdle(titleId);
      return { state: 'ABORTED' };
    }
    state.queue.add(sessionKey);
    return { state: 'QUEUED' };
  }

  /** Ends every running cluster of one title (or of all), then serves the queues. */
  release(titleId?: string): void {
    const ids = titleId === undefined ? [...this.titles.keys()] : [titleId];
    for (const id of ids) {
      const title = this.titles.get(id);
      if (!title) continue;
      for (const { timer } of title.running.values()) clearTimeout(timer);
      title.running.clear();
      this.serveQueue(id);
    }
  }

  /** Raising capacity serves queued heads at once; lowering it lets running clusters live out their time. */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
    for (const id of [...this.titles.keys()]) this.serveQueue(id);
  }

  snapshot(): { titleId: string; running: number; queued: number }[] {
    return [...this.titles].map(([titleId, title]) => ({ titleId, running: title.running.size, queued: title.queue.size }));
  }

  /** Stops every lifetime timer and forgets all state. */
  close(): void {
    for (const title of this.titles.values()) {
      for (const { timer } of title.running.values()) clearTimeout(timer);
    }
    this.titles.clear();
  }

  private addTitle(titleId: string): TitleState {
    const title: TitleState = { running: new Map(), queue: new Set() };
    this.titles.set(titleId, title);
    return title;
  }

  private allocate(titleId: string, title: TitleState, sessionKey: string): Cluster {
    this.allocated += 1;
    const external = EXTERNAL_PORT_MIN + Math.floor(this.random() * (EXTERNAL_PORT_SPAN - 1));
    const cluster: Cluster = {
      hostName: `gs-${titleId}-${this.allocated}.emulator.local`,
      region: REGIONS[Math.floor(this.random() * REGIONS.length)] ?? REGIONS[0],
      portMappings: [
        { name: 'game', internalPort: GAME_PORT, externalPort: external },
        { name: 'voice', internalPort: VOICE_PORT, externalPort: external + 1 },
      ],
      secureContext: randomBytes(32).toString('base64'),
    };
    // unref: a cluster's lifetime must never keep a process (a test run, the gateway) alive.
    const timer = setTimeout(() => this.end(titleId, sessionKey), this.options.clusterLifetimeMs).unref();
    title.running.set(sessionKey, { cluster, timer });
    return cluster;
  }

  private end(titleId: string, sessionKey: string): void {
    const title = this.titles.get(titleId);
    if (!title?.running.delete(sessionKey)) return;
    this.serveQueue(titleId);
  }

  private serveQueue(titleId: string): void {
    const title = this.titles.get(titleId);
    if (!title) return;
    for (const sessionKey of title.queue) {
      if (title.running.size >= this.capacity) break;
      title.queue.delete(sessionKey);
      this.allocate(titleId, title, sessionKey);
    }
    this.forgetIfIdle(titleId);
  }

  private forgetIfIdle(titleId: string): void {
    const title = this.titles.get(titleId);
    if (title && title.running.size === 0 && title.queue.size === 0) this.titles.delete(titleId);
  }
}
