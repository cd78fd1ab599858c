/** The in-memory registry: the embedded default, for one gateway process. */
import type { ClusterAnswer } from '../gsms/wire.js';
import type { ClusterRecord } from './cluster-record.js';
import {
  applyAnswer,
  applyRequest,
  matchesFilter,
  recordExpiresAt,
  type ClusterFilter,
  type ClusterRegistry,
  type RecordRequestInput,
  type RecordUpdate,
} from './registry.js';

interface Entry {
  record: ClusterRecord;
  credential: string;
}

export class MemoryClusterRegistry implements ClusterRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  /**
   * @param retentionMs how long a record is kept after its last update (a watched session's record at least
   *   until its watch ends, see recordExpiresAt), so memory stays bounded in a long-running process; the Redis
   *   registry uses a key expiry for the same purpose.
   */
  constructor(
    private readonly retentionMs = 3_600_000,
    private readonly watchTimeoutMs = 600_000,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(retentionMs, 60_000)).unref();
  }

  #sweep(): void {
    const now = this.now().getTime();
    for (const [sessionId, { record }] of this.#entries) {
      if (recordExpiresAt(record, this.retentionMs, this.watchTimeoutMs) < now) this.#entries.delete(sessionId);
    }
  }

  async get(sessionId: string): Promise<ClusterRecord | null> {
    return this.#entries.get(sessionId)?.record ?? null;
  }

  async list(filter: ClusterFilter): Promise<ClusterRecord[]> {
    return [...this.#entries.values()].map((e) => e.record).filter((r) => matchesFilter(r, filter));
  }

  async recordRequest(input: RecordRequestInput): Promise<RecordUpdate> {
    const update = applyRequest(this.#entries.get(input.sessionId)?.record ?? null, input, this.now());
    this.#entries.set(input.sessionId, { record: update.record, credential: input.credential });
    return update;
  }

  async recordPoll(sessionId: string, answer: ClusterAnswer): Promise<RecordUpdate | null> {
    const entry = this.#entries.get(sessionId);
    if (!entry) return null;
    const update = applyAnswer(entry.record, answer, this.now());
    entry.record = update.record;
    return update;
  }

  async pollCredential(sessionId: string): Promise<string | null> {
    return this.#entries.get(sessionId)?.credential ?? null;
  }

  async watchedSince(sinceMs: number): Promise<string[]> {
    return [...this.#entries.values()]
      .filter(({ record }) => record.state === 'QUEUED' && Date.parse(record.watchStartedAt) >= sinceMs)
      .map(({ record }) => record.sessionId);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }
}
