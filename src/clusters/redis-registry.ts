/**
 * The shared registry: every instance reads and writes the same records in Redis, so `cluster`,
 * `clusters` and `clusterStatus` answer the same wherever a request lands. Layout and scripts: see
 * redis-keyspace.ts and redis-scripts.ts. Per bucket and state, a sorted set of session ids scored by when
 * their record expires is both the `clusters` index and the metrics' counts (ZCOUNT from now on: constant
 * work per scrape, never a read of every record).
 *
 * Writes are compare-and-swap on the session's revision: compute the new record with the same pure helpers
 * the in-memory registry uses, store it only if the revision is still the one read (one script), else read
 * again. Versions therefore never go backwards or repeat, whichever instances write.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FulfillmentState } from '../gsms/wire.js';
import { isTerminal, type ClusterRecord } from './cluster-record.js';
import type { CredentialCipher } from './credential-cipher.js';
import { BUCKET_TAGS, bucketTagOf, RedisKeyspace } from './redis-keyspace.js';
import { defineScripts, type RedisCommands } from './redis-scripts.js';
import {
  applyRequest,
  matchesFilter,
  recordExpiresAt,
  type ClusterFilter,
  type ClusterRegistry,
  type RecordRequestInput,
  type RecordUpdate,
  type StateCounts,
} from './registry.js';
import { whileReachable } from './registry-unavailable.js';
import { stateEventFor, type StateEventListener } from './state-events.js';

const STATES: readonly FulfillmentState[] = ['QUEUED', 'FULFILLED', 'ABORTED'];
/** Compare-and-swap attempts before giving up; only many instances writing one session at once need more than one. */
const MAX_ATTEMPTS = 25;
const READ_BATCH = 500;

export interface RedisClusterRegistryOptions {
  redis: RedisCommands;
  keyPrefix: string;
  cipher: CredentialCipher;
  /** This instance's id: the owner a request of a queued session records. */
  instanceId: string;
  retentionMs: number;
  /** A queued record is kept at least until its watch ends (recordExpiresAt). */
  watchTimeoutMs: number;
  /** Append state events to the bucket's outbox stream, in the script that stores the change (webhooks). */
  outbox?: boolean;
  onStateEvent?: StateEventListener;
  now?: () => Date;
}

/** What one write stores; `previous` is the record the write was planned on. */
export interface RecordWrite {
  sessionId: string;
  previous: ClusterRecord | null;
  record: ClusterRecord;
  rev: number;
  mode: 'request' | 'poll';
  /** A newly sealed credential (requests), else the stored one stays. */
  sealedCredential?: string;
  /** Polls: the not-before time to reserve if the session is still this instance's. */
  notBefore?: number;
}

export class RedisClusterRegistry implements ClusterRegistry {
  readonly keys: RedisKeyspace;
  readonly #redis: RedisCommands;
  readonly #options: RedisClusterRegistryOptions;
  readonly #now: () => Date;

  constructor(options: RedisClusterRegistryOptions) {
    this.#redis = options.redis;
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.keys = new RedisKeyspace(options.keyPrefix);
    defineScripts(options.redis);
  }

  get instanceId(): string {
    return this.#options.instanceId;
  }

  async get(sessionId: string): Promise<ClusterRecord | null> {
    const raw = await whileReachable(() => this.#redis.hget(this.keys.session(sessionId), 'v'));
    return raw ? (JSON.parse(raw) as ClusterRecord) : null;
  }

  async list(filter: ClusterFilter): Promise<ClusterRecord[]> {
    const now = String(this.#now().getTime());
    const states = filter.state ? [filter.state] : STATES;
    const indexes = states.flatMap((state) => BUCKET_TAGS.map((tag) => this.keys.stateIndex(tag, state)));
    const ids = (await whileReachable(() => Promise.all(indexes.map((key) => this.#redis.zrangebyscore(key, now, '+inf'))))).flat();
    const records: ClusterRecord[] = [];
    for (let start = 0; start < ids.length; start += READ_BATCH) {
      const batch = ids.slice(start, start + READ_BATCH);
      // One HGET per key: on a cluster the keys live on different shards, so no MGET; ioredis pipelines them.
      const values = await whileReachable(() => Promise.all(batch.map((id) => this.#redis.hget(this.keys.session(id), 'v'))));
      for (const raw of values) {
        if (!raw) continue;
        const record = JSON.parse(raw) as ClusterRecord;
        if (matchesFilter(record, filter)) records.push(record);
      }
    }
    return records;
  }

  async countByState(): Promise<StateCounts> {
    const now = String(this.#now().getTime());
    const counts = await whileReachable(() =>
      Promise.all(STATES.map(async (state) => {
        const perBucket = await Promise.all(BUCKET_TAGS.map((tag) => this.#redis.zcount(this.keys.stateIndex(tag, state), now, '+inf')));
        return perBucket.reduce((sum, n) => sum + n, 0);
      })),
    );
    return { QUEUED: counts[0]!, FULFILLED: counts[1]!, ABORTED: counts[2]! };
  }

  async recordRequest(input: RecordRequestInput): Promise<RecordUpdate> {
    const sealedCredential = this.#options.cipher.seal(input.credential, input.sessionId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const [raw, rev] = await whileReachable(() => this.#redis.hmget(this.keys.session(input.sessionId), 'v', 'rev'));
      const previous = raw ? (JSON.parse(raw) as ClusterRecord) : null;
      const update = applyRequest(previous, input, this.#now());
      const written = await this.write({ sessionId: input.sessionId, previous, record: update.record, rev: Number(rev ?? 0), mode: 'request', sealedCredential });
      if (written) return update;
      // Another instance wrote in between: step aside for a moment so the writers do not collide again.
      await sleep(Math.random() * 5 * (attempt + 1));
    }
    throw new Error(`registry: gave up updating ${input.sessionId} after ${MAX_ATTEMPTS} concurrent writes`);
  }

  /**
   * Stores a record if the session's revision is still `rev`: null when it moved, else the new revision and
   * the session's owner ('' when none). Raises the state event when the state changed.
   */
  async write(w: RecordWrite): Promise<{ rev: number; owner: string } | null> {
    const tag = bucketTagOf(w.sessionId);
    const { keys } = this;
    const now = this.#now().getTime();
    const { retentionMs, watchTimeoutMs } = this.#options;
    const expiresAt = recordExpiresAt(w.record, retentionMs, watchTimeoutMs);
    // A queued record's expiry is set by its watch and stays put from poll to poll: no need to move it.
    const expiryMoved = !w.previous || w.previous.state !== w.record.state || recordExpiresAt(w.previous, retentionMs, watchTimeoutMs) !== expiresAt;
    const event = stateEventFor(w.previous, w.record);
    if (w.mode === 'poll' && !event && !expiryMoved && w.notBefore !== undefined) {
      const [rev, owner] = await whileReachable(() =>
        this.#redis.gsmsWritePoll(keys.session(w.sessionId), String(w.rev), JSON.stringify(w.record), this.#options.instanceId, String(w.notBefore)),
      );
      return rev === -1 ? null : { rev, owner };
    }
    const [rev, owner] = await whileReachable(() =>
      this.#redis.gsmsWriteRecord(
        keys.session(w.sessionId),
        keys.stateIndex(tag, w.record.state),
        keys.stateIndex(tag, w.previous?.state ?? w.record.state),
        keys.outbox(tag),
        keys.held(tag, this.#options.instanceId),
        String(w.rev),
        JSON.stringify(w.record),
        w.sealedCredential ?? '',
        expiryMoved ? String(Math.max(1, expiresAt - now)) : '',
        w.sessionId,
        expiryMoved ? String(expiresAt) : '',
        this.#options.instanceId,
        keys.held(tag, ''),
        w.mode,
        w.notBefore === undefined ? '' : String(w.notBefore),
        isTerminal(w.record.state) ? '1' : '0',
        event && this.#options.outbox ? JSON.stringify(event) : '',
        String(now),
      ),
    );
    if (rev === -1) return null;
    if (event) this.#options.onStateEvent?.(event);
    return { rev, owner };
  }

  /** The connections belong to the server, which closes them after everything that uses them. */
  async close(): Promise<void> {}
}
