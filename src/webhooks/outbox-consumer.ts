/**
 * Reads the state-change outbox (Redis mode): one stream per bucket, written by the same script that stores
 * the change (src/clusters), so a change is never stored without its event. Every instance reads through one
 * consumer group: each entry goes to one instance, which fans it out to delivery jobs and then XACKs it.
 * An entry an instance read but never acknowledged (it died) is claimed by another with XAUTOCLAIM once it
 * has been idle CLAIM_IDLE_MS; fanning out twice is harmless, since a delivery's job id is deterministic.
 *
 * Each stream is read with its own non-blocking XREADGROUP (a blocking read of 16 keys would cross slots on a
 * Redis Cluster), so an idle instance asks 16 cheap questions every IDLE_WAIT_MS.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../clusters/logger.js';
import { BUCKET_TAGS, RedisKeyspace } from '../clusters/redis-keyspace.js';
import type { ClusterStateEvent } from '../clusters/state-events.js';

const GROUP = 'webhooks';
const BATCH = 100;
/**
 * Pause after a pass that found nothing: 250 ms after a busy pass, doubling while the outbox stays empty, up
 * to 1 s. An idle gateway reads its 16 streams once a second, not four times (each pass is 16 commands, and
 * this was most of an idle instance's Redis work); an event waits at most a second more.
 */
const IDLE_WAIT_MS = 250;
const MAX_IDLE_WAIT_MS = 1_000;
const CLAIM_IDLE_MS = 15_000;
const CLAIM_EVERY_MS = 5_000;
/** Consumers of instances gone this long with nothing pending are removed from the group. */
const FORGET_CONSUMER_IDLE_MS = 3_600_000;

type StreamEntry = [id: string, fields: string[]];

export interface OutboxConsumerOptions {
  redis: Redis | Cluster;
  keyPrefix: string;
  /** This instance's consumer name in the group. */
  consumer: string;
  /** Fans one event out; it has happened (durably) when this resolves. */
  handle(event: ClusterStateEvent): Promise<void>;
  logger: Logger;
}

export class OutboxConsumer {
  readonly #streams: string[];
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #lastClaim = 0;

  constructor(private readonly options: OutboxConsumerOptions) {
    const keyspace = new RedisKeyspace(options.keyPrefix);
    this.#streams = BUCKET_TAGS.map((tag) => keyspace.outbox(tag));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    let groupsReady = false;
    let failures = 0;
    let idleWaitMs = IDLE_WAIT_MS / 2;
    while (this.#running) {
      let handled = 0;
      // Not connected yet (start-up) or not any more (an outage): wait for the connection, not in a loop of errors.
      if (this.options.redis.status !== 'ready') {
        await this.#whenConnected();
        continue;
      }
      try {
        if (!groupsReady) groupsReady = await this.#createGroups();
        handled = (await Promise.all(this.#streams.map((stream) => this.#readNew(stream)))).reduce((a, b) => a + b, 0);
        if (Date.now() - this.#lastClaim >= CLAIM_EVERY_MS) {
          this.#lastClaim = Date.now();
          await Promise.all(this.#streams.map((stream) => this.#claimAbandoned(stream)));
        }
        failures = 0;
      } catch (error) {
        // Redis away: the entries wait in their streams; read them when it is back. One line per outage, and
        // none for a lone failure the next read does not repeat (a cluster client's connection to a seed node
        // is replaced just after start-up).
        failures += 1;
        const entry = { component: 'webhooks', err: { message: (error as Error).message } };
        if (failures === 2) this.options.logger.warn(entry, 'webhook outbox read failed; retrying');
        else if (failures === 1) this.options.logger.debug(entry, 'webhook outbox read failed once; retrying');
      }
      idleWaitMs = handled === 0 ? Math.min(idleWaitMs * 2, MAX_IDLE_WAIT_MS) : IDLE_WAIT_MS / 2;
      if (handled === 0 && this.#running) await this.#idle(failures > 0 ? 1_000 : idleWaitMs);
    }
  }

  async #createGroups(): Promise<boolean> {
    await Promise.all(
      this.#streams.map((stream) =>
        // '0' and MKSTREAM: the group starts at the beginning, so events written before any instance ran are kept.
        this.options.redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM').catch((error: Error) => {
          if (!error.message.includes('BUSYGROUP')) throw error;
        }),
      ),
    );
    return true;
  }

  async #readNew(stream: string): Promise<number> {
    const reply = (await this.options.redis.xreadgroup('GROUP', GROUP, this.options.consumer, 'COUNT', BATCH, 'STREAMS', stream, '>')) as
      | [string, StreamEntry[]][]
      | null;
    const entries = reply?.[0]?.[1] ?? [];
    await this.#handleAll(stream, entries);
    return entries.length;
  }

  async #claimAbandoned(stream: string): Promise<void> {
    const [, entries] = (await this.options.redis.xautoclaim(stream, GROUP, this.options.consumer, CLAIM_IDLE_MS, '0-0', 'COUNT', BATCH)) as [
      string,
      (StreamEntry | null)[],
    ];
    const live = entries.filter((entry): entry is StreamEntry => entry !== null);
    if (live.length > 0) this.options.logger.info({ component: 'webhooks', claimed: live.length }, 'claimed webhook events another instance left');
    await this.#handleAll(stream, live);
    await this.#forgetGoneConsumers(stream);
  }

  async #forgetGoneConsumers(stream: string): Promise<void> {
    const consumers = (await this.options.redis.xinfo('CONSUMERS', stream, GROUP)) as unknown[][];
    for (const fields of consumers) {
      const info = Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]));
      if (info.name !== this.options.consumer && Number(info.pending) === 0 && Number(info.idle) > FORGET_CONSUMER_IDLE_MS) {
        await this.options.redis.xgroup('DELCONSUMER', stream, GROUP, String(info.name));
      }
    }
  }

  /** In stream order, so a session's events are fanned out in the order they happened. */
  async #handleAll(stream: string, entries: StreamEntry[]): Promise<void> {
    for (const [id, fields] of entries) {
      const json = fields[fields.indexOf('e') + 1];
      let event: ClusterStateEvent | undefined;
      try {
        event = json === undefined || fields.indexOf('e') < 0 ? undefined : (JSON.parse(json) as ClusterStateEvent);
      } catch {
        event = undefined;
      }
      if (event) await this.options.handle(event);
      else this.options.logger.warn({ component: 'webhooks', stream, entryId: id }, 'unreadable webhook outbox entry skipped');
      await this.options.redis.xack(stream, GROUP, id);
    }
  }

  /** Resolves when the connection is ready, or after a second (to look again), or at stop. */
  #whenConnected(): Promise<void> {
    return new Promise((resolve) => {
      const redis = this.options.redis;
      const done = () => {
        redis.off('ready', done);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, 1_000);
      redis.once('ready', done);
      this.#wake = done;
    });
  }

  #idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }
}
