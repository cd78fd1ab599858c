/**
 * Endpoints and deliveries in Redis, shared by every instance. Every key carries the `{wh}` hash tag, so
 * they sit in one slot (scripts work on a Redis Cluster) and stay a small set:
 * - `{wh}:endpoints`: endpoint id → endpoint JSON; `{wh}:secrets`: id → secret sealed with
 *   GSMS_CREDENTIAL_KEY (AES-256-GCM, the endpoint id as associated data); `{wh}:disabled`: ids a 410 disabled;
 * - per endpoint, `{wh}:deliveries:<id>` (id → delivery JSON) and `{wh}:delivery-order:<id>` (ids by time),
 *   trimmed to the most recent DELIVERIES_KEPT_PER_ENDPOINT.
 */
import type { Cluster, Redis } from 'ioredis';
import type { CredentialCipher } from '../clusters/credential-cipher.js';
import { DELIVERIES_KEPT_PER_ENDPOINT, type WebhookDelivery, type WebhookEndpoint } from './webhook-model.js';
import type { WebhookStore } from './webhook-store.js';

/** The hash tag of every webhook key (and of the BullMQ queue's keys). */
export const WEBHOOK_HASH_TAG = '{wh}';

// KEYS: endpoints, secrets. ARGV: id, sealed secret.
const SET_SECRET = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`;

// KEYS: endpoints, deliveries hash, order zset. ARGV: endpoint id, delivery id, JSON, score, keep.
const ADD_DELIVERY = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 0 then return 0 end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
local extra = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
if extra > 0 then
  local old = redis.call('ZPOPMIN', KEYS[3], extra)
  for i = 1, #old, 2 do redis.call('HDEL', KEYS[2], old[i]) end
end
return 1`;

// KEYS: deliveries hash. ARGV: delivery id, JSON. Only a delivery still recorded is updated.
const UPDATE_DELIVERY = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

export class RedisWebhookStore implements WebhookStore {
  readonly #redis: Redis | Cluster;
  readonly #cipher: CredentialCipher;
  readonly #key: (name: string) => string;

  constructor(options: { redis: Redis | Cluster; keyPrefix: string; cipher: CredentialCipher }) {
    this.#redis = options.redis;
    this.#cipher = options.cipher;
    this.#key = (name) => `${options.keyPrefix}${WEBHOOK_HASH_TAG}:${name}`;
  }

  #sealed(endpointId: string, secret: string): string {
    return this.#cipher.seal(secret, `webhook:${endpointId}`);
  }

  async createEndpoint(endpoint: WebhookEndpoint, secret: string): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.#key('secrets'), endpoint.id, this.#sealed(endpoint.id, secret))
      .hset(this.#key('endpoints'), endpoint.id, JSON.stringify({ ...endpoint, enabled: true }))
      .exec();
  }
  async setSecret(endpointId: string, secret: string): Promise<boolean> {
    const done = await this.#redis.eval(SET_SECRET, 2, this.#key('endpoints'), this.#key('secrets'), endpointId, this.#sealed(endpointId, secret));
    return done === 1;
  }
  async deleteEndpoint(endpointId: string): Promise<boolean> {
    const [[, removed] = []] = (await this.#redis
      .multi()
      .hdel(this.#key('endpoints'), endpointId)
      .hdel(this.#key('secrets'), endpointId)
      .srem(this.#key('disabled'), endpointId)
      .del(this.#key(`deliveries:${endpointId}`), this.#key(`delivery-order:${endpointId}`))
      .exec()) ?? [];
    return removed === 1;
  }
  async getEndpoint(endpointId: string): Promise<WebhookEndpoint | null> {
    const [[, json] = [], [, disabled] = []] = (await this.#redis
      .multi()
      .hget(this.#key('endpoints'), endpointId)
      .sismember(this.#key('disabled'), endpointId)
      .exec()) ?? [];
    if (typeof json !== 'string') return null;
    return { ...(JSON.parse(json) as WebhookEndpoint), enabled: disabled !== 1 };
  }
  async listEndpoints(): Promise<WebhookEndpoint[]> {
    const [[, all] = [], [, disabled] = []] = (await this.#redis
      .multi()
      .hgetall(this.#key('endpoints'))
      .smembers(this.#key('disabled'))
      .exec()) ?? [];
    const off = new Set(disabled as string[]);
    return Object.values(all as Record<string, string>)
      .map((json) => JSON.parse(json) as WebhookEndpoint)
      .map((endpoint) => ({ ...endpoint, enabled: !off.has(endpoint.id) }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  async disableEndpoint(endpointId: string): Promise<void> {
    await this.#redis.sadd(this.#key('disabled'), endpointId);
  }
  async secretOf(endpointId: string): Promise<string | null> {
    const sealed = await this.#redis.hget(this.#key('secrets'), endpointId);
    return sealed === null ? null : this.#cipher.open(sealed, `webhook:${endpointId}`);
  }

  async addDelivery(delivery: WebhookDelivery): Promise<boolean> {
    const added = await this.#redis.eval(
      ADD_DELIVERY,
      3,
      this.#key('endpoints'),
      this.#key(`deliveries:${delivery.endpointId}`),
      this.#key(`delivery-order:${delivery.endpointId}`),
      delivery.endpointId,
      delivery.id,
      JSON.stringify(delivery),
      Date.parse(delivery.createdAt),
      DELIVERIES_KEPT_PER_ENDPOINT,
    );
    return added === 1;
  }
  async updateDelivery(delivery: WebhookDelivery): Promise<void> {
    await this.#redis.eval(UPDATE_DELIVERY, 1, this.#key(`deliveries:${delivery.endpointId}`), delivery.id, JSON.stringify(delivery));
  }
  async getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    const json = await this.#redis.hget(this.#key(`deliveries:${endpointId}`), deliveryId);
    return json === null ? null : (JSON.parse(json) as WebhookDelivery);
  }
  async listDeliveries(endpointId: string, last: number): Promise<WebhookDelivery[]> {
    if (last <= 0) return [];
    const ids = await this.#redis.zrevrange(this.#key(`delivery-order:${endpointId}`), 0, last - 1);
    if (ids.length === 0) return [];
    const values = await this.#redis.hmget(this.#key(`deliveries:${endpointId}`), ...ids);
    return values.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as WebhookDelivery);
  }
  async close(): Promise<void> {}
}
