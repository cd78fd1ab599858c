/**
 * Poll leases in Redis: `lease:{sessionId}` holds the id of the instance polling it, set with
 * `SET NX PX`, renewed and released only by its holder (compare-and-renew / compare-and-delete scripts, so
 * an instance whose lease lapsed can never extend or delete its successor's). `posted:{sessionId}` holds
 * the time of the last post, written by the holder in the same script that proves it holds the lease.
 */
import type { Redis, Result } from 'ioredis';
import type { PollLeases } from './poll-lease.js';
import { whileReachable } from './registry-unavailable.js';

// KEYS: lease. ARGV: owner, lease ms. Takes a free lease, or extends our own (e.g. after a Redis restart).
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`;
// KEYS: lease. ARGV: owner, lease ms.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`;
// KEYS: lease, posted. ARGV: owner, lease ms, post time ms, how long to remember the post time ms.
const CLAIM_POST = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 1
`;
// KEYS: lease. ARGV: owner.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gsmsLeaseAcquire(lease: string, owner: string, leaseMs: number): Result<number, Context>;
    gsmsLeaseRenew(lease: string, owner: string, leaseMs: number): Result<number, Context>;
    gsmsLeaseClaimPost(lease: string, posted: string, owner: string, leaseMs: number, at: number, keepMs: number): Result<number, Context>;
    gsmsLeaseRelease(lease: string, owner: string): Result<number, Context>;
  }
}

export interface RedisPollLeasesOptions {
  redis: Redis;
  keyPrefix: string;
  /** This instance's id, unique per process: the value a lease holds. */
  owner: string;
  /** decisions.md: 5 s. */
  leaseMs?: number;
  /** How long the last post time is kept (the record retention is a good bound). */
  postedRetentionMs: number;
}

export class RedisPollLeases implements PollLeases {
  readonly shared = true;
  readonly leaseMs: number;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #postedRetentionMs: number;

  constructor(options: RedisPollLeasesOptions) {
    this.leaseMs = options.leaseMs ?? 5_000;
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#owner = options.owner;
    this.#postedRetentionMs = options.postedRetentionMs;
    this.#redis.defineCommand('gsmsLeaseAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    this.#redis.defineCommand('gsmsLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    this.#redis.defineCommand('gsmsLeaseClaimPost', { numberOfKeys: 2, lua: CLAIM_POST });
    this.#redis.defineCommand('gsmsLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
  }

  #lease(sessionId: string): string {
    return `${this.#prefix}lease:${sessionId}`;
  }
  #posted(sessionId: string): string {
    return `${this.#prefix}posted:${sessionId}`;
  }

  async acquire(sessionId: string): Promise<boolean> {
    return (await whileReachable(() => this.#redis.gsmsLeaseAcquire(this.#lease(sessionId), this.#owner, this.leaseMs))) === 1;
  }

  async renew(sessionId: string): Promise<boolean> {
    return (await whileReachable(() => this.#redis.gsmsLeaseRenew(this.#lease(sessionId), this.#owner, this.leaseMs))) === 1;
  }

  async claimPost(sessionId: string, at: number): Promise<boolean> {
    const claimed = await whileReachable(() =>
      this.#redis.gsmsLeaseClaimPost(this.#lease(sessionId), this.#posted(sessionId), this.#owner, this.leaseMs, at, this.#postedRetentionMs),
    );
    return claimed === 1;
  }

  async lastPostAt(sessionId: string): Promise<number | null> {
    const value = await whileReachable(() => this.#redis.get(this.#posted(sessionId)));
    return value === null ? null : Number(value);
  }

  async release(sessionId: string): Promise<void> {
    await whileReachable(() => this.#redis.gsmsLeaseRelease(this.#lease(sessionId), this.#owner));
  }
}
