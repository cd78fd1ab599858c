/**
 * What every resolver receives: the gateway's services, and who is calling. Built once per operation by
 * the server (HTTP and WebSocket alike, through yoga's one pipeline).
 */
import type { ClusterPoller } from '../clusters/poller.js';
import type { ClusterPubSub } from '../clusters/pubsub.js';
import type { ClusterRegistry } from '../clusters/registry.js';
import type { Logger } from '../clusters/logger.js';
import type { GsmsClient } from '../gsms/client.js';
import type { XblCredential } from '../gsms/xbl-authorization.js';

export interface GatewayServices {
  gsms: Pick<GsmsClient, 'requestCluster'>;
  registry: ClusterRegistry;
  pubsub: ClusterPubSub;
  poller: ClusterPoller;
  logger: Logger;
}

export interface GatewayContext {
  services: GatewayServices;
  /** The caller's Xbox Live credential, or null when the request brought none. */
  credential: XblCredential | null;
}
