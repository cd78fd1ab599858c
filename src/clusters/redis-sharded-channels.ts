/**
 * Sharded pub/sub channels (SSUBSCRIBE / SPUBLISH / 'smessage') on one subscriber client, shared by every
 * listener in the process: the first listener of a channel subscribes it, the last one to leave
 * unsubscribes it. The same code runs on one primary (Redis 7 has sharded pub/sub outside a cluster too)
 * and on a Redis Cluster, where a shard channel travels only through the master serving its slot.
 *
 * Redis keeps no backlog, so what matters is knowing when a subscription is in place: `confirmed` runs once
 * Redis has confirmed the channel, and again after every reconnect (a standalone client's 'ready', a
 * cluster's 'subscribersReady' when its per-master subscribers were rebuilt), so a listener can re-read what
 * it may have missed. Each confirmation is one SSUBSCRIBE of the channel: ioredis resubscribes by itself,
 * but does not say when its resubscription is confirmed, and subscribing twice to a channel is harmless.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from './logger.js';

type RedisClient = Redis | Cluster;

export interface ChannelListener {
  /** One message; a throw (an unreadable message) is logged and the message dropped. */
  message(payload: string): void;
  /** The channel's subscription is (again) in place: from now on every message reaches `message`. */
  confirmed?(): void;
}

interface ChannelState {
  listeners: Set<ChannelListener>;
  confirmed: boolean;
  /** Failed subscribe attempts in a row (they back off). */
  failures: number;
  retry: NodeJS.Timeout | undefined;
}

/** Longest pause between subscribe attempts while the channel's master is away. */
const MAX_RETRY_MS = 2_000;

export class ShardedChannels {
  readonly #channels = new Map<string, ChannelState>();

  constructor(
    private readonly client: RedisClient,
    private readonly logger: Logger,
    private readonly retryMs = 250,
  ) {
    client.on('smessage', (channel: string, payload: string) => this.#deliver(channel, payload));
    const resubscribed = () => {
      for (const channel of this.#channels.keys()) this.#subscribe(channel);
    };
    client.on('ready', resubscribed);
    client.on('subscribersReady', resubscribed);
  }

  /** Starts listening; the returned function stops. */
  listen(channel: string, listener: ChannelListener): () => void {
    let state = this.#channels.get(channel);
    if (!state) {
      state = { listeners: new Set(), confirmed: false, failures: 0, retry: undefined };
      this.#channels.set(channel, state);
      state.listeners.add(listener);
      this.#subscribe(channel);
    } else {
      state.listeners.add(listener);
      if (state.confirmed) {
        const joined = state;
        queueMicrotask(() => {
          if (joined.listeners.has(listener)) listener.confirmed?.();
        });
      }
    }
    const joined = state;
    return () => {
      if (!joined.listeners.delete(listener) || joined.listeners.size > 0) return;
      if (this.#channels.get(channel) !== joined) return;
      this.#channels.delete(channel);
      clearTimeout(joined.retry);
      this.client.sunsubscribe(channel).catch((error: unknown) => this.logger.debug({ err: error, channel }, 'sunsubscribe failed'));
    };
  }

  /** Channels listened to now (for tests and metrics). */
  get size(): number {
    return this.#channels.size;
  }

  #subscribe(channel: string): void {
    const state = this.#channels.get(channel);
    if (!state) return;
    clearTimeout(state.retry);
    state.retry = undefined;
    this.client.ssubscribe(channel).then(
      () => {
        if (this.#channels.get(channel) !== state) return;
        state.confirmed = true;
        state.failures = 0;
        for (const listener of state.listeners) listener.confirmed?.();
      },
      (error: unknown) => {
        if (this.#channels.get(channel) !== state) return;
        // The channel's master is away (or the subscriber group is being rebuilt): try again, backing off.
        // A reconnect also subscribes again, whichever comes first.
        state.failures += 1;
        this.logger.debug({ err: error, channel }, 'ssubscribe failed; retrying');
        const delay = Math.min(this.retryMs * state.failures, MAX_RETRY_MS);
        state.retry = setTimeout(() => this.#subscribe(channel), delay);
        state.retry.unref();
      },
    );
  }

  #deliver(channel: string, payload: string): void {
    const state = this.#channels.get(channel);
    if (!state) return;
    for (const listener of state.listeners) {
      try {
        listener.message(payload);
      } catch (error) {
        this.logger.warn({ err: error, channel }, 'dropped an unreadable pub/sub message');
      }
    }
  }
}

/** Tries per publish: 250 ms, 500 ms, … apart, about 9 s in all. */
const PUBLISH_ATTEMPTS = 8;

/**
 * SPUBLISH that never rejects: retried for a few seconds, so a subscriber whose own connection stayed up
 * still hears of a change stored while only the publish connection (or the channel's master) was away.
 * After that it gives up with a log line; subscribers catch up from the record when they reconnect.
 */
export async function publishSharded(client: RedisClient, channel: string, payload: string, logger: Logger, pauseMs = 250): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await client.spublish(channel, payload);
      return;
    } catch (error) {
      if (attempt >= PUBLISH_ATTEMPTS) {
        logger.warn({ err: error, channel }, 'publish failed: Redis unreachable; subscribers catch up when they reconnect');
        return;
      }
      await sleep(pauseMs * attempt);
    }
  }
}
