/** Builds the gateway's services from its configuration, and takes them down in order. */
import type { Logger } from 'pino';
import { MemoryClusterRegistry } from '../clusters/memory-registry.js';
import { ClusterPoller } from '../clusters/poller.js';
import { createClusterPubSub } from '../clusters/pubsub.js';
import { createQueueService } from '../clusters/queue-service.js';
import { createStateEventBus, type StateEventBus } from '../clusters/state-events.js';
import { createGsmsClient, type GsmsClient } from '../gsms/client.js';
import type { GatewayServices } from '../resolvers/context.js';
import type { GatewayConfig } from './config.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics/gateway-metrics.js';
import { upstreamReadinessCheck } from './metrics/upstream-readiness.js';
import type { ReadinessCheck } from './metrics/readiness.js';
import { createRedisClusterState, type RedisClusterState } from './redis/shared-state.js';
import { CredentialCipher } from '../clusters/credential-cipher.js';
import { webhookRedis } from './redis/webhook-connections.js';
import { createWebhookService } from '../webhooks/webhook-service.js';
import { createWebhookMetrics } from './metrics/webhook-metrics.js';
import type { GatewayTracing } from './tracing/gateway-tracing.js';

export interface RunningServices extends GatewayServices {
  gsms: GsmsClient;
  /** What `GET /ready` checks; each dependency adds its own. */
  readinessChecks: ReadinessCheck[];
  /** Prometheus metrics of this instance (`GET /metrics`), in a registry of its own. */
  metrics: GatewayMetrics;
  /** The shared state in Redis when REDIS_URL is set (its `redis` connection can hold other shared counters). */
  shared: RedisClusterState | undefined;
  /** State changes as they are stored here (webhooks and the queue tracker listen). */
  stateEvents: StateEventBus;
  /** Resolves when dependencies that need connecting are connected (or after a bounded wait; /ready tells). */
  whenReady(): Promise<void>;
  close(): Promise<void>;
}

/** `tracing`: given when tracing is on; each poll then gets its span (src/server/tracing/poll-spans.ts). */
export function createServices(config: GatewayConfig, gsmsBaseUrl: string, logger: Logger, tracing?: GatewayTracing): RunningServices {
  const metrics = createGatewayMetrics();
  const gsms = createGsmsClient({
    baseUrl: gsmsBaseUrl,
    connectTimeoutMs: config.gsms.connectTimeoutMs,
    headersTimeoutMs: config.gsms.requestTimeoutMs,
    bodyTimeoutMs: config.gsms.requestTimeoutMs,
    retry: { maxAttempts: config.gsms.maxAttempts, maxTotalMs: config.gsms.maxTotalMs },
    logger: logger.child({ component: 'gsms-client' }),
    observer: metrics.upstreamObserver,
  });
  // Webhooks and the queue tracker listen here for state changes, whichever registry stores them.
  const stateEvents = createStateEventBus();
  const shared = config.redis ? createRedisClusterState(config.redis, config, logger, stateEvents.emit) : undefined;
  const memory = shared
    ? undefined
    : new MemoryClusterRegistry({ retentionMs: config.recordRetentionMs, watchTimeoutMs: config.watchTimeoutMs, onStateEvent: stateEvents.emit });
  const registry = shared?.registry ?? memory!;
  const pubsub = shared?.pubsub ?? createClusterPubSub();
  // Where queued sessions stand: hears every stored change, recomputes once per poll (queue-announcer.ts).
  const queue = createQueueService({ pubsub, logger: logger.child({ component: 'queue' }), redis: shared && config.redis ? { client: shared.redis, keyPrefix: config.redis.keyPrefix } : undefined });
  stateEvents.listen(queue.onStateEvent);
  const poller = new ClusterPoller({
    gsms,
    store: shared?.pollStore ?? memory!,
    pubsub,
    logger: logger.child({ component: 'poller' }),
    watchTimeoutMs: config.watchTimeoutMs,
    observer: metrics.pollObserver,
    timing: { maxErrorBackoffMs: config.pollMaxBackoffMs },
    afterPoll: queue.afterPoll,
    tracePoll: tracing?.tracePoll,
  });
  metrics.observeState({ poller, registry });
  // Memory mode delivers what this registry stores; Redis mode reads the outbox and ignores the bus.
  const webhookMetrics = createWebhookMetrics(metrics.registry);
  const webhooks = createWebhookService({
    config: config.webhooks,
    logger: logger.child({ component: 'webhooks' }),
    observer: webhookMetrics.observer,
    redis: shared && config.redis
      ? { ...webhookRedis(config.redis.topology, config.redis.commandTimeoutMs), keyPrefix: config.redis.keyPrefix, cipher: new CredentialCipher(config.redis.credentialKey), instanceId: shared.instanceId }
      : undefined,
  });
  stateEvents.listen((event) => webhooks.onStateEvent(event));
  webhookMetrics.observePending(() => webhooks.pendingCount());
  return {
    gsms,
    registry,
    pubsub,
    poller,
    logger,
    queue: queue.tracker,
    stateEvents,
    webhooks,
    readinessChecks: [upstreamReadinessCheck(gsmsBaseUrl, config.operating.readyUpstreamTimeoutMs), ...(shared ? [shared.readinessCheck] : [])],
    metrics,
    shared,
    async whenReady() {
      if (!shared) return;
      if (await shared.whenConnected(10_000)) logger.info({ component: 'redis', instanceId: shared.instanceId }, 'shared state in Redis');
      else logger.warn({ component: 'redis' }, 'Redis is not reachable yet; serving anyway, GET /ready answers 503 until it is');
    },
    async close() {
      await poller.stop();
      await gsms.close();
      await webhooks.close();
      await registry.close();
      await shared?.close();
    },
  };
}
