/**
 * The shared registry: every instance reads and writes the same records in Redis, so `cluster`,
 * `clusters` and `clusterStatus` answer the same wherever a request lands.
 *
 * Layout (all under the configured key prefix):
 * - `cluster:{sessionId}`: the record and the sealed polling credential, as JSON, expiring `retentionMs`
 *   after its last update (the in-memory registry's sweep, done by Redis);
 * - `clusters`: sorted set of session ids by last update, the index `list` reads;
 * - `watching`: sorted set of queued session ids by watch start, the index pollers scan to find sessions
 *   nobody polls (e.g. after their poller's instance died). It is written in the same script as the
 *   record, so a crash can never leave a queued session out of it.
 *
 * Writes are compare-and-swap: read the value, compute the new one with the same pure helpers the
 * in-memory registry uses, and store it only if the value is still the one read (a Lua script), else
 * retry. Versions therefore never go backwards or repeat, whichever instances write. WATCH/MULTI would
 * need a connection per writer; the script works on one shared connection. Writes to one session are
 * queued within an instance, so retries happen only between instances (and back off with jitter).
 */
import type { Redis, Result } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterAnswer } from '../gsms/wire.js';
import type { ClusterRecord } from './cluster-record.js';
import type { CredentialCipher } from './credential-cipher.js';
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
import { whileReachable } from './registry-unavailable.js';

/** What one record key holds. */
interface StoredCluster {
  record: ClusterRecord;
  /** The most recent requester's credential, sealed by CredentialCipher. */
  credential: string;
}

// KEYS: record, clusters index, watching index. ARGV: expected value ('' = absent), new value, time to live
// ms, session id, index score (expiry − retention), watch-start ms ('' = not queued: leave the watching index).
const COMPARE_AND_STORE = `
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
if ARGV[6] == '' then redis.call('ZREM', KEYS[3], ARGV[4]) else redis.call('ZADD', KEYS[3], ARGV[6], ARGV[4]) end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gsmsCompareAndStore(
      record: string,
      clusters: string,
      watching: string,
      expected: string,
      next: string,
      retentionMs: number,
      sessionId: string,
      updatedAtMs: number,
      watchStartMs: string,
    ): Result<number, Context>;
  }
}

/** Compare-and-swap attempts before giving up; only many instances writing one session at once need more than one. */
const MAX_ATTEMPTS = 25;
const MGET_BATCH = 500;

export interface RedisClusterRegistryOptions {
  redis: Redis;
  keyPrefix: string;
  cipher: CredentialCipher;
  retentionMs: number;
  /** A queued record is kept at least until its watch ends (recordExpiresAt). */
  watchTimeoutMs: number;
  now?: () => Date;
}

export class RedisClusterRegistry implements ClusterRegistry {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #cipher: CredentialCipher;
  readonly #retentionMs: number;
  readonly #watchTimeoutMs: number;
  readonly #now: () => Date;
  /** The last queued write per session on this instance. */
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(options: RedisClusterRegistryOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#cipher = options.cipher;
    this.#retentionMs = options.retentionMs;
    this.#watchTimeoutMs = options.watchTimeoutMs;
    this.#now = options.now ?? (() => new Date());
    this.#redis.defineCommand('gsmsCompareAndStore', { numberOfKeys: 3, lua: COMPARE_AND_STORE });
  }

  #recordKey(sessionId: string): string {
    return `${this.#prefix}cluster:${sessionId}`;
  }
  get #clustersKey(): string {
    return `${this.#prefix}clusters`;
  }
  get #watchingKey(): string {
    return `${this.#prefix}watching`;
  }

  async get(sessionId: string): Promise<ClusterRecord | null> {
    const raw = await whileReachable(() => this.#redis.get(this.#recordKey(sessionId)));
    return raw ? (JSON.parse(raw) as StoredCluster).record : null;
  }

  async list(filter: ClusterFilter): Promise<ClusterRecord[]> {
    const cutoff = this.#now().getTime() - this.#retentionMs;
    const ids = await whileReachable(async () => {
      // Index entries outlive their expired records; trim them as we go.
      await this.#redis.zremrangebyscore(this.#clustersKey, '-inf', `(${cutoff}`);
      return this.#redis.zrange(this.#clustersKey, 0, -1);
    });
    const records: ClusterRecord[] = [];
    for (let start = 0; start < ids.length; start += MGET_BATCH) {
      const keys = ids.slice(start, start + MGET_BATCH).map((id) => this.#recordKey(id));
      const values = await whileReachable(() => this.#redis.mget(keys));
      for (const raw of values) {
        if (!raw) continue;
        const { record } = JSON.parse(raw) as StoredCluster;
        if (matchesFilter(record, filter)) records.push(record);
      }
    }
    return records;
  }

  async recordRequest(input: RecordRequestInput): Promise<RecordUpdate> {
    const update = await this.#update(input.sessionId, (stored) => {
      const { record, changed } = applyRequest(stored?.record ?? null, input, this.#now());
      return { changed, stored: { record, credential: this.#cipher.seal(input.credential, input.sessionId) } };
    });
    if (!update) throw new Error('registry: a request always stores a record');
    return update;
  }

  recordPoll(sessionId: string, answer: ClusterAnswer): Promise<RecordUpdate | null> {
    return this.#update(sessionId, (stored) => {
      if (!stored) return null;
      const update = applyAnswer(stored.record, answer, this.#now());
      return { changed: update.changed, stored: { record: update.record, credential: stored.credential } };
    });
  }

  async pollCredential(sessionId: string): Promise<string | null> {
    const raw = await whileReachable(() => this.#redis.get(this.#recordKey(sessionId)));
    if (!raw) return null;
    const credential = this.#cipher.open((JSON.parse(raw) as StoredCluster).credential, sessionId);
    // Loud, not null: a silent null would stop polling with no trace of why.
    if (credential === null) throw new Error('the stored polling credential does not open with this GSMS_CREDENTIAL_KEY; it must be the same on every instance');
    return credential;
  }

  async watchedSince(sinceMs: number): Promise<string[]> {
    const expiredBefore = this.#now().getTime() - this.#retentionMs;
    return whileReachable(async () => {
      // Sessions whose watch ended stay queued in queries but need no poller: drop them from the index.
      await this.#redis.zremrangebyscore(this.#watchingKey, '-inf', `(${sinceMs}`);
      // Pollers scan every second, so the list index is also kept free of expired records here.
      await this.#redis.zremrangebyscore(this.#clustersKey, '-inf', `(${expiredBefore}`);
      return this.#redis.zrange(this.#watchingKey, 0, -1);
    });
  }

  /** The connections belong to the server, which closes them after everything that uses them. */
  async close(): Promise<void> {}

  /** Runs one session's writes on this instance one after the other. */
  #update(sessionId: string, change: (stored: StoredCluster | null) => { changed: boolean; stored: StoredCluster } | null): Promise<RecordUpdate | null> {
    const write = (this.#writes.get(sessionId) ?? Promise.resolve()).then(() => this.#compareAndSwap(sessionId, change));
    const settled = write.catch(() => {});
    this.#writes.set(sessionId, settled);
    void settled.then(() => {
      if (this.#writes.get(sessionId) === settled) this.#writes.delete(sessionId);
    });
    return write;
  }

  /** Compare-and-swap loop: `change` maps the stored value to the new one, or null to leave it as it is. */
  async #compareAndSwap(
    sessionId: string,
    change: (stored: StoredCluster | null) => { changed: boolean; stored: StoredCluster } | null,
  ): Promise<RecordUpdate | null> {
    const key = this.#recordKey(sessionId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const raw = await whileReachable(() => this.#redis.get(key));
      const next = change(raw ? (JSON.parse(raw) as StoredCluster) : null);
      if (!next) return null;
      const { record } = next.stored;
      // The index scores a record by "expiry minus retention", so trimming the index at now − retention
      // drops exactly the records that have expired.
      const expiresAt = recordExpiresAt(record, this.#retentionMs, this.#watchTimeoutMs);
      const stored = await whileReachable(() =>
        this.#redis.gsmsCompareAndStore(
          key,
          this.#clustersKey,
          this.#watchingKey,
          raw ?? '',
          JSON.stringify(next.stored),
          Math.max(1, expiresAt - this.#now().getTime()),
          sessionId,
          expiresAt - this.#retentionMs,
          record.state === 'QUEUED' ? String(Date.parse(record.watchStartedAt)) : '',
        ),
      );
      if (stored === 1) return { record, changed: next.changed };
      // Another instance wrote in between: step aside for a moment so the writers do not collide again.
      await sleep(Math.random() * 5 * (attempt + 1));
    }
    throw new Error(`registry: gave up updating ${sessionId} after ${MAX_ATTEMPTS} concurrent writes`);
  }
}
