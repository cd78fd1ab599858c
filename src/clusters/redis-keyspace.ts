/**
 * Where the shared state lives in Redis, on a single primary and on a Redis Cluster alike.
 *
 * Sessions are spread over a fixed number of buckets by a hash of their id. Every key of a session, and
 * every per-bucket index or stream a script writes beside it, carries its bucket's hash tag, so each script
 * touches one slot (no CROSSSLOT on a cluster) and what spans sessions (the state indexes, the change
 * channels, the webhook outbox) is split by bucket instead of living on one shard.
 *
 * The tags are chosen, not hashed blindly: bucket i's tag is the first `b<i>.<n>` whose slot falls in the
 * i-th of BUCKETS equal slot ranges. `redis-cli --cluster create` gives each master an equal run of
 * slots, so the buckets (and with them the traffic) spread evenly over the masters: 16 buckets on 3 masters
 * put at most 6 on one (0.375 of the sessions), where 16 random tags could put 8 or more there.
 */
import calculateSlot from 'cluster-key-slot';

/** Buckets sessions are spread over. A fixed part of the keyspace: changing it moves every key. */
export const BUCKETS = 16;
const SLOTS = 16_384;

function chooseTag(bucket: number): string {
  const low = (bucket * SLOTS) / BUCKETS;
  const high = ((bucket + 1) * SLOTS) / BUCKETS;
  // Aim for the middle of the range: a master boundary that does not fall on a range edge still splits fairly.
  const middle = (low + high) / 2;
  let best = '';
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let n = 0; n < 2_000; n += 1) {
    const tag = `b${bucket}.${n}`;
    const distance = Math.abs(calculateSlot(tag) - middle);
    if (distance < bestDistance) [best, bestDistance] = [tag, distance];
    if (distance < SLOTS / BUCKETS / 8) break;
  }
  return `{${best}}`;
}

/** The hash tag of every bucket, `{b0.n}` … `{b15.n}`, braces included. */
export const BUCKET_TAGS: readonly string[] = Array.from({ length: BUCKETS }, (_, bucket) => chooseTag(bucket));

/** FNV-1a over the id's UTF-16 code units: cheap, stable across processes and versions. */
export function bucketOf(sessionId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i += 1) {
    hash ^= sessionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % BUCKETS;
}

export function bucketTagOf(sessionId: string): string {
  return BUCKET_TAGS[bucketOf(sessionId)]!;
}

/** Key and channel names under one deployment's prefix. */
export class RedisKeyspace {
  constructor(readonly prefix: string) {}

  /** A session's hash: `v` (record and sealed credential, JSON), `rev`, `owner`, `notBefore`. */
  session(sessionId: string): string {
    return this.sessionPrefix(bucketTagOf(sessionId)) + sessionId;
  }
  /** What every session key of a bucket starts with (scripts build keys of sessions they walk from it). */
  sessionPrefix(tag: string): string {
    return `${this.prefix}s:${tag}:`;
  }
  /** Per bucket and state: session ids scored by when their record expires (list, counts). */
  stateIndex(tag: string, state: string): string {
    return `${this.prefix}state:${tag}:${state}`;
  }
  /** Per bucket and instance: the queued sessions that instance polls (what a successor adopts). */
  held(tag: string, owner: string): string {
    return `${this.prefix}held:${tag}:${owner}`;
  }
  /** Per bucket: state-change events for webhooks, appended by the script that records the change. */
  outbox(tag: string): string {
    return `${this.prefix}outbox:${tag}`;
  }
  /** Live instances scored by when their heartbeat runs out. One small key, touched a few times a second. */
  get instances(): string {
    return `${this.prefix}instances`;
  }
  /** Sharded pub/sub channel of one session's status events (same slot as the session's keys). */
  statusChannel(sessionId: string): string {
    return `${this.prefix}status:${bucketTagOf(sessionId)}:${sessionId}`;
  }
  /** Sharded pub/sub channel of every change in one bucket (`clusterEvents`, dashboards listen to all). */
  changesChannel(tag: string): string {
    return `${this.prefix}changes:${tag}`;
  }
}
