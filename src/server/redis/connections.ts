/**
 * The Redis connections of a scaled-out gateway (REDIS_URL): one for commands (registry, leases), one to
 * publish and one to subscribe (a subscribed connection can do nothing else).
 *
 * Failing fast matters more than queueing here: while Redis is away, a command is refused at once
 * (`enableOfflineQueue: false`), one already sent fails when the connection drops
 * (`maxRetriesPerRequest: 0`) and one Redis does not answer fails after `commandTimeoutMs`, so a GraphQL
 * call gets `REGISTRY_UNAVAILABLE` instead of hanging. ioredis keeps reconnecting in the background and
 * resubscribes the subscriber's channels by itself; 'error' events are logged, never thrown.
 * The subscriber alone keeps its offline queue, so a subscription made during an outage is sent on reconnect.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisConnections {
  commands: Redis;
  publisher: Redis;
  subscriber: Redis;
  /** Resolves true once the command connection is ready, false if it is not within `timeoutMs`. */
  whenConnected(timeoutMs: number): Promise<boolean>;
  /** Whether Redis answers a PING now: the readiness check. */
  isReachable(): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisConnectionOptions {
  url: string;
  /** Longest wait for one command's answer. */
  commandTimeoutMs?: number;
}

/** Reconnect quickly at first, then every second: an outage costs at most a second after Redis is back. */
const retryStrategy = (attempt: number) => Math.min(50 * attempt, 1_000);

export function connectRedis({ url, commandTimeoutMs = 2_000 }: RedisConnectionOptions, logger: Logger): RedisConnections {
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    retryStrategy,
  };
  const commands = new Redis(url, { ...failFast, connectionName: 'gsms-commands' });
  const publisher = new Redis(url, { ...failFast, connectionName: 'gsms-publish' });
  const subscriber = new Redis(url, {
    connectTimeout: commandTimeoutMs,
    maxRetriesPerRequest: null,
    retryStrategy,
    connectionName: 'gsms-subscribe',
  });
  // Every live clusterStatus subscription listens for the subscriber's reconnects.
  subscriber.setMaxListeners(0);

  for (const [role, client] of Object.entries({ commands, publisher, subscriber })) {
    let down = false;
    client.on('error', (error: Error) => {
      // ioredis reports every failed reconnect; one line per outage is enough.
      if (!down) logger.warn({ role, err: { message: error.message } }, 'Redis connection error; reconnecting');
      down = true;
    });
    client.on('ready', () => {
      if (down) logger.info({ role }, 'Redis connection restored');
      down = false;
    });
  }

  return {
    commands,
    publisher,
    subscriber,
    whenConnected(timeoutMs) {
      if (commands.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => done(false), timeoutMs);
        const onReady = () => done(true);
        function done(ok: boolean) {
          clearTimeout(timer);
          commands.off('ready', onReady);
          resolve(ok);
        }
        commands.on('ready', onReady);
      });
    },
    async isReachable() {
      try {
        return (await commands.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      // quit() waits for replies to commands already sent; disconnect() for a connection that is down.
      await Promise.all(
        [commands, publisher, subscriber].map((client) =>
          client.status === 'ready' ? client.quit().catch(() => client.disconnect()) : client.disconnect(),
        ),
      );
    },
  };
}
