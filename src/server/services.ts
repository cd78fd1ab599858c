/** Builds the gateway's services from its configuration, and takes them down in order. */
import type { Logger } from 'pino';
import { MemoryClusterRegistry } from '../clusters/memory-registry.js';
import { ClusterPoller } from '../clusters/poller.js';
import { createClusterPubSub } from '../clusters/pubsub.js';
import { createGsmsClient, type GsmsClient } from '../gsms/client.js';
import type { GatewayServices } from '../resolvers/context.js';
import type { GatewayConfig } from './config.js';
import type { ReadinessCheck } from './readiness.js';

export interface RunningServices extends GatewayServices {
  gsms: GsmsClient;
  /** What `GET /ready` checks; each dependency adds its own. */
  readinessChecks: ReadinessCheck[];
  close(): Promise<void>;
}

export function createServices(config: GatewayConfig, gsmsBaseUrl: string, logger: Logger): RunningServices {
  const gsms = createGsmsClient({
    baseUrl: gsmsBaseUrl,
    connectTimeoutMs: config.gsms.connectTimeoutMs,
    headersTimeoutMs: config.gsms.requestTimeoutMs,
    bodyTimeoutMs: config.gsms.requestTimeoutMs,
    retry: { maxAttempts: config.gsms.maxAttempts, maxTotalMs: config.gsms.maxTotalMs },
    logger: logger.child({ component: 'gsms-client' }),
  });
  const registry = new MemoryClusterRegistry(config.recordRetentionMs);
  const pubsub = createClusterPubSub();
  const poller = new ClusterPoller({
    gsms,
    registry,
    pubsub,
    logger: logger.child({ component: 'poller' }),
    watchTimeoutMs: config.watchTimeoutMs,
  });
  return {
    gsms,
    registry,
    pubsub,
    poller,
    logger,
    readinessChecks: [],
    async close() {
      await poller.stop();
      await gsms.close();
      await registry.close();
    },
  };
}
