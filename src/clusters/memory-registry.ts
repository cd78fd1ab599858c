/**
 * The in-memory registry: the embedded default, for one gateway process. It is also that process's poll
 * store: one process polls every queued session, so there is no ownership to prove, only the revision a
 * loop planned on (a new request for the session changes it, and the loop plans again).
 */
import type { ClusterAnswer, FulfillmentState } from '../gsms/wire.js';
import { isTerminal, type ClusterRecord } from './cluster-record.js';
import type { NextPost, PollStore, PollTicket, ReserveResult } from './poll-store.js';
import {
  applyAnswer,
  applyRequest,
  matchesFilter,
  recordExpiresAt,
  type ClusterFilter,
  type ClusterRegistry,
  type RecordRequestInput,
  type RecordUpdate,
  type StateCounts,
} from './registry.js';
import { stateEventFor, watchTimeoutEvent, type StateEventListener } from './state-events.js';

interface Entry {
  record: ClusterRecord;
  credential: string;
  rev: number;
}

export interface MemoryRegistryOptions {
  /** How long a record is kept after its last update (a watched session's at least until its watch ends). */
  retentionMs?: number;
  watchTimeoutMs?: number;
  now?: () => Date;
  onStateEvent?: StateEventListener;
}

export class MemoryClusterRegistry implements ClusterRegistry, PollStore {
  readonly shared = false;
  readonly #entries = new Map<string, Entry>();
  readonly #counts: StateCounts = { QUEUED: 0, FULFILLED: 0, ABORTED: 0 };
  readonly #sweeper: NodeJS.Timeout;
  readonly #retentionMs: number;
  readonly #watchTimeoutMs: number;
  readonly #now: () => Date;
  readonly #onStateEvent: StateEventListener | undefined;

  constructor(options: MemoryRegistryOptions = {}) {
    this.#retentionMs = options.retentionMs ?? 3_600_000;
    this.#watchTimeoutMs = options.watchTimeoutMs ?? 600_000;
    this.#now = options.now ?? (() => new Date());
    this.#onStateEvent = options.onStateEvent;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#retentionMs, 60_000)).unref();
  }

  #sweep(): void {
    const now = this.#now().getTime();
    for (const [sessionId, { record }] of this.#entries) {
      if (recordExpiresAt(record, this.#retentionMs, this.#watchTimeoutMs) < now) {
        this.#entries.delete(sessionId);
        this.#counts[record.state] -= 1;
      }
    }
  }

  /** Stores a record, keeping the counts and raising the state event. */
  #store(sessionId: string, previous: ClusterRecord | null, entry: Entry): void {
    this.#entries.set(sessionId, entry);
    if (previous?.state === entry.record.state) return;
    if (previous) this.#counts[previous.state] -= 1;
    this.#counts[entry.record.state] += 1;
    const event = stateEventFor(previous, entry.record);
    if (event) this.#onStateEvent?.(event);
  }

  async get(sessionId: string): Promise<ClusterRecord | null> {
    return this.#entries.get(sessionId)?.record ?? null;
  }

  async list(filter: ClusterFilter): Promise<ClusterRecord[]> {
    return [...this.#entries.values()].map((e) => e.record).filter((r) => matchesFilter(r, filter));
  }

  async recordRequest(input: RecordRequestInput): Promise<RecordUpdate> {
    const existing = this.#entries.get(input.sessionId);
    const update = applyRequest(existing?.record ?? null, input, this.#now());
    this.#store(input.sessionId, existing?.record ?? null, { record: update.record, credential: input.credential, rev: (existing?.rev ?? 0) + 1 });
    return update;
  }

  async countByState(): Promise<StateCounts> {
    return { ...this.#counts };
  }

  async open(sessionId: string): Promise<PollTicket | null> {
    const entry = this.#entries.get(sessionId);
    if (!entry || isTerminal(entry.record.state)) return null;
    return { sessionId, record: entry.record, credential: entry.credential, rev: entry.rev, notBefore: 0, reservedAt: null, provenAt: 0, writtenAt: 0 };
  }

  /** Unchanged since the ticket's last write: a request meanwhile sends the poller through reserve ('stale'). */
  mayPost(ticket: PollTicket): boolean {
    return this.#entries.get(ticket.sessionId)?.rev === ticket.rev;
  }

  async reserve(ticket: PollTicket): Promise<ReserveResult> {
    const entry = this.#entries.get(ticket.sessionId);
    if (!entry) return 'lost';
    return entry.rev === ticket.rev ? 'reserved' : 'stale';
  }

  async recordPoll(ticket: PollTicket, answer: ClusterAnswer, next: NextPost): Promise<{ update: RecordUpdate; ticket: PollTicket | null } | 'stale'> {
    const entry = this.#entries.get(ticket.sessionId);
    if (!entry) return { update: { record: ticket.record, changed: false }, ticket: null };
    if (entry.rev !== ticket.rev) return 'stale';
    const update = applyAnswer(entry.record, answer, this.#now());
    this.#store(ticket.sessionId, entry.record, { record: update.record, credential: entry.credential, rev: entry.rev + 1 });
    ticket.record = update.record;
    ticket.rev = entry.rev + 1;
    // One process: the next post is ours as long as the revision holds, which mayPost checks right before it
    // goes out, synchronously (no reserve call, no await per poll).
    ticket.reservedAt = next.postAt;
    return { update, ticket: isTerminal(update.record.state) ? null : ticket };
  }

  async endWatch(ticket: PollTicket): Promise<'ended' | 'stale'> {
    const entry = this.#entries.get(ticket.sessionId);
    if (entry && entry.rev !== ticket.rev) return 'stale';
    if (entry) this.#onStateEvent?.(watchTimeoutEvent(entry.record, this.#now()));
    return 'ended';
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }
}
