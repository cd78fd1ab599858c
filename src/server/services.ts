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
import type { ReadinessCheck } from './readiness.js';

export interface RunningServices extends GatewayServices {
  gsms: GsmsClient;
  /** What `GET /ready` checks; each dependency adds its own. */
  readinessChecks: ReadinessCheck[];
  /** Prometheus metrics of this instance (`GET /metrics`), in a registry of its own. */
  metrics: GatewayMetrics;
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
  const registry = new MemoryClusterRegistry(config.recordRetentionMs);
  const pubsub = createClusterPubSub();
  const poller = new ClusterPoller({
    gsms,
    registry,
    pubsub,
    logger: logger.child({ component: 'poller' }),
    watchTimeoutMs: config.watchTimeoutMs,
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
    readinessChecks: [upstreamReadinessCheck(gsmsBaseUrl)],
    metrics,
    async close() {
      await poller.stop();
      await gsms.close();
      await registry.close();
    },
  };
}
