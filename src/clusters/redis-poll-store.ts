/**
 * Polling across instances: exactly one instance (the session's `owner`) polls each queued session, and one
 * poll costs one script call: the write that records its answer also proves the session is still this
 * instance's and reserves the next post ("not before" = that post plus one interval, so whoever polls next
 * never posts early). Only a post that was not reserved that way (the first, or one after an upstream error)
 * takes a second call.
 *
 * Liveness is per instance, not per session: each instance keeps a heartbeat in one small sorted set
 * (`instances`, scored by when the heartbeat runs out) and every instance looks at its low end each beat.
 * When an instance's heartbeat has run out, whoever sees it first adopts its sessions, bucket by bucket,
 * from the held sets the record scripts keep. Finding orphans therefore costs in proportion to the dead
 * instance's sessions, not to all queued sessions times instances, and keeping ownership costs nothing per
 * session. An instance that was only cut off finds out at its next write (not the owner any more) and stops.
 *
 * Most polls cost Redis nothing at all. An answer that changes nothing is written only if the record was last
 * written RECORD_REFRESH_MS ago or more (so `updatedAt` and `pollCount` in Redis lag the last poll by at
 * most that), and such refreshes go out in batches (REFRESH_BATCH_MS). Between writes, ownership rests on
 * this instance's own heartbeat: while it is fresh nobody can have adopted the session, so a post needs no
 * proof. Once the heartbeat may have lapsed (Redis away, a long pause), every post is proven by a script call
 * again until a fresh beat, and a ticket proven before the lapse is proven again first. An adopter never posts before "not before", nor before one interval after it
 * opened the session, which is after the dead instance's last post (that one stopped posting unproven before
 * its heartbeat ran out).
 */
import type { ClusterAnswer } from '../gsms/wire.js';
import { isTerminal, type ClusterRecord } from './cluster-record.js';
import type { CredentialCipher } from './credential-cipher.js';
import type { NextPost, PollStore, PollTicket, ReserveResult } from './poll-store.js';
import { BUCKET_TAGS, bucketTagOf } from './redis-keyspace.js';
import type { RedisClusterRegistry } from './redis-registry.js';
import type { RedisCommands } from './redis-scripts.js';
import { clampInterval, DEFAULT_POLL_TIMING } from './poll-schedule.js';
import { applyAnswer, type RecordUpdate } from './registry.js';
import { whileReachable } from './registry-unavailable.js';
import { watchTimeoutEvent } from './state-events.js';

/** Longest an unchanged queued record goes unwritten while it is polled. */
const RECORD_REFRESH_MS = 10_000;
/**
 * Those refreshes wait for the next tick of this length and go out together: ioredis's auto-pipelining then
 * sends them in one socket write (per master), where each on its own was a write and a wake-up of Redis,
 * the largest CPU cost of a poll on Redis. Nothing waits on them: the next post is planned already, and a
 * refresh is only delayed while this instance's heartbeat vouches for its sessions.
 */
const REFRESH_BATCH_MS = 50;

export interface RedisPollStoreOptions {
  redis: RedisCommands;
  registry: RedisClusterRegistry;
  cipher: CredentialCipher;
  /** How long an instance's heartbeat lasts: its sessions are adopted this long after it dies, plus a beat. */
  heartbeatTtlMs?: number;
  /** Write state events to the outbox (the registry's option, repeated for watch timeouts). */
  outbox?: boolean;
  now?: () => Date;
}

export class RedisPollStore implements PollStore {
  readonly shared = true;
  readonly heartbeatMs: number;
  readonly #redis: RedisCommands;
  readonly #registry: RedisClusterRegistry;
  readonly #cipher: CredentialCipher;
  readonly #ttlMs: number;
  readonly #outbox: boolean;
  /** Epoch ms: `Date.now` itself unless a clock is injected, so a poll makes no Date object just to read it. */
  readonly #nowMs: () => number;
  /** When the last heartbeat was stored, and from when posts may again go out unproven after a lapse. */
  #beatAt = 0;
  #freshSince = 0;
  /** The tick the pending refreshes wait for (see REFRESH_BATCH_MS). */
  #refreshTick: Promise<void> | null = null;

  constructor(options: RedisPollStoreOptions) {
    this.#redis = options.redis;
    this.#registry = options.registry;
    this.#cipher = options.cipher;
    this.#ttlMs = options.heartbeatTtlMs ?? 3_000;
    this.heartbeatMs = Math.max(50, Math.round(this.#ttlMs / 4));
    this.#outbox = options.outbox ?? false;
    this.#nowMs = options.now ? () => options.now!().getTime() : Date.now;
  }

  get #me(): string {
    return this.#registry.instanceId;
  }

  async open(sessionId: string): Promise<PollTicket | null> {
    const key = this.#registry.keys.session(sessionId);
    const [raw, sealed, rev, owner, notBefore] = await whileReachable(() => this.#redis.hmget(key, 'v', 'c', 'rev', 'owner', 'nb'));
    if (!raw || !sealed || owner !== this.#me) return null;
    const record = JSON.parse(raw) as ClusterRecord;
    if (isTerminal(record.state)) return null;
    const credential = this.#cipher.open(sealed, sessionId);
    // Loud, not null: a silent null would stop polling with no trace of why.
    if (credential === null) throw new Error('the stored polling credential does not open with this GSMS_CREDENTIAL_KEY; it must be the same on every instance');
    const now = this.#nowMs();
    // After the previous owner's last post (see the class comment), and after the request that just posted.
    const firstPostAt = Math.max(Number(notBefore ?? 0), now + clampInterval(record.pollIntervalMs, DEFAULT_POLL_TIMING));
    return { sessionId, record, credential, rev: Number(rev), notBefore: firstPostAt, reservedAt: null, provenAt: now, writtenAt: now };
  }

  #heartbeatFresh(now: number): boolean {
    return now < this.#beatAt + this.#ttlMs - this.heartbeatMs;
  }

  mayPost(ticket: PollTicket): boolean {
    return this.#heartbeatFresh(this.#nowMs()) && ticket.provenAt >= this.#freshSince;
  }

  async reserve(ticket: PollTicket, next: NextPost): Promise<ReserveResult> {
    const key = this.#registry.keys.session(ticket.sessionId);
    const provenAt = this.#nowMs();
    const result = await whileReachable(() => this.#redis.gsmsReservePost(key, String(ticket.rev), this.#me, String(next.notBefore)));
    if (result === 1) ticket.provenAt = provenAt;
    return result === 1 ? 'reserved' : result === -1 ? 'stale' : 'lost';
  }

  async recordPoll(ticket: PollTicket, answer: ClusterAnswer, next: NextPost): Promise<{ update: RecordUpdate; ticket: PollTicket | null } | 'stale'> {
    const now = new Date(this.#nowMs());
    const update = applyAnswer(ticket.record, answer, now);
    if (!update.changed && this.mayPost(ticket)) {
      if (now.getTime() - ticket.writtenAt < RECORD_REFRESH_MS) {
        ticket.record = update.record;
        ticket.notBefore = next.notBefore;
        ticket.reservedAt = next.postAt;
        return { update, ticket };
      }
      await this.#nextRefreshTick();
    }
    const written = await this.#registry.write({
      sessionId: ticket.sessionId,
      previous: ticket.record,
      record: update.record,
      rev: ticket.rev,
      mode: 'poll',
      notBefore: next.notBefore,
    });
    if (!written) return 'stale';
    if (written.owner !== this.#me || isTerminal(update.record.state)) return { update, ticket: null };
    ticket.record = update.record;
    ticket.rev = written.rev;
    ticket.notBefore = next.notBefore;
    ticket.reservedAt = next.postAt;
    ticket.provenAt = ticket.writtenAt = now.getTime();
    return { update, ticket };
  }

  async endWatch(ticket: PollTicket): Promise<'ended' | 'stale'> {
    const { keys } = this.#registry;
    const tag = bucketTagOf(ticket.sessionId);
    const event = this.#outbox ? JSON.stringify(watchTimeoutEvent(ticket.record, new Date(this.#nowMs()))) : '';
    const ended = await whileReachable(() =>
      this.#redis.gsmsEndWatch(keys.session(ticket.sessionId), keys.outbox(tag), keys.held(tag, this.#me), this.#me, ticket.sessionId, event, String(ticket.rev)),
    );
    return ended === -1 ? 'stale' : 'ended';
  }

  #nextRefreshTick(): Promise<void> {
    this.#refreshTick ??= new Promise((resolve) =>
      setTimeout(() => {
        this.#refreshTick = null;
        resolve();
      }, REFRESH_BATCH_MS),
    );
    return this.#refreshTick;
  }

  /** One beat: renew this instance's heartbeat, and adopt the sessions of instances whose heartbeat ran out. */
  async tick(): Promise<string[]> {
    const { keys } = this.#registry;
    const now = this.#nowMs();
    const [, dead] = await whileReachable(() =>
      Promise.all([
        this.#redis.zadd(keys.instances, now + this.#ttlMs, this.#me),
        this.#redis.zrangebyscore(keys.instances, '-inf', now, 'LIMIT', 0, 8),
      ]),
    );
    // Back from a lapse: another instance may have read our run-out heartbeat just before this beat landed and
    // be adopting our sessions right now. Prove every post for one more heartbeat time, by which any such
    // adoption has happened (and a proof then says the session is no longer ours).
    if (!this.#heartbeatFresh(now)) this.#freshSince = now + this.#ttlMs;
    this.#beatAt = now;
    const adopted: string[] = [];
    for (const instance of dead) {
      if (instance === this.#me) continue;
      const perBucket = await whileReachable(() =>
        Promise.all(BUCKET_TAGS.map((tag) => this.#redis.gsmsAdopt(keys.held(tag, instance), keys.held(tag, this.#me), instance, this.#me, keys.sessionPrefix(tag)))),
      );
      adopted.push(...perBucket.flat());
      await whileReachable(() => this.#redis.zrem(keys.instances, instance));
    }
    return adopted;
  }

  /** Marks this instance's heartbeat as run out, so the next beat of any other instance adopts its sessions. */
  async leave(): Promise<void> {
    await whileReachable(() => this.#redis.zadd(this.#registry.keys.instances, 0, this.#me));
  }
}
