/** Builds the gateway's services from its configuration, and takes them down in order. */
import type { Logger } from 'pino';
import { MemoryClusterRegistry } from '../clusters/memory-registry.js';
import { ClusterPoller } from '../clusters/poller.js';
import { createClusterPubSub } from '../clusters/pubsub.js';
import { createGsmsClient, type GsmsClient } from '../gsms/client.js';
import type { GatewayServices } from '../resolvers/context.js';
import type { GatewayConfig } from './config.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics/gateway-metrics.js';
import { upstreamReadinessCheck } from './metrics/upstream-readiness.js';
import type { ReadinessCheck } from './metrics/readiness.js';
import { createRedisClusterState, type RedisClusterState } from './redis/shared-state.js';

export interface RunningServices extends GatewayServices {
  gsms: GsmsClient;
  /** What `GET /ready` checks; each dependency adds its own. */
  readinessChecks: ReadinessCheck[];
  /** Prometheus metrics of this instance (`GET /metrics`), in a registry of its own. */
  metrics: GatewayMetrics;
  /** The shared state in Redis when REDIS_URL is set (its `redis` connection can hold other shared counters). */
  shared: RedisClusterState | undefined;
  /** Resolves when dependencies that need connecting are connected (or after a bounded wait; /ready tells). */
  whenReady(): Promise<void>;
  close(): Promise<void>;
}

export function createServices(config: GatewayConfig, gsmsBaseUrl: string, logger: Logger): RunningServices {
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
  const shared = config.redis ? createRedisClusterState(config.redis, config, logger) : undefined;
  const registry = shared?.registry ?? new MemoryClusterRegistry(config.recordRetentionMs, config.watchTimeoutMs);
  const pubsub = shared?.pubsub ?? createClusterPubSub();
  const poller = new ClusterPoller({
    gsms,
    registry,
    pubsub,
    logger: logger.child({ component: 'poller' }),
    watchTimeoutMs: config.watchTimeoutMs,
    leases: shared?.leases,
    observer: metrics.pollObserver,
    timing: { maxErrorBackoffMs: config.pollMaxBackoffMs },
  });
  metrics.observeState({ poller, registry });
  return {
    gsms,
    registry,
    pubsub,
    poller,
    logger,
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
      await registry.close();
      await shared?.close();
    },
  };
}
