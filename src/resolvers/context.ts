/**
 * What every resolver receives: the gateway's services, and who is calling. Built once per operation by
 * the server (HTTP and WebSocket alike, through yoga's one pipeline).
 */
import type { ClusterPoller } from '../clusters/poller.js';
import type { ClusterPubSub } from '../clusters/pubsub.js';
import type { ClusterRegistry } from '../clusters/registry.js';
import type { QueueTracker } from '../clusters/queue-tracker.js';
import type { Logger } from '../clusters/logger.js';
import type { GsmsClient } from '../gsms/client.js';
import type { XblCredential } from '../gsms/xbl-authorization.js';
import type { WebhookService } from '../webhooks/webhook-service.js';

export interface GatewayServices {
  gsms: Pick<GsmsClient, 'requestCluster'>;
  registry: ClusterRegistry;
  pubsub: ClusterPubSub;
  poller: ClusterPoller;
  logger: Logger;
  /** Webhook endpoints and deliveries (operators only). */
  webhooks?: WebhookService;
  /** Where queued sessions stand (queuePosition, estimatedWaitMs); absent: those fields are null. */
  queue?: QueueTracker;
}

/**
 * Who is calling. A player is known by the user hash of their Xbox Live credential and sees the sessions
 * they requested; an operator (a valid `x-api-key`) sees every session. Only the hash or the key's id is
 * kept here, never a token, so a caller can be logged.
 */
export type Caller = { kind: 'player'; userHash: string } | { kind: 'operator'; keyId: string };

export interface GatewayContext {
  services: GatewayServices;
  /** Null when the request brought neither a credential nor an operator key. */
  caller: Caller | null;
  /**
   * The Xbox Live credential to call GSMS with, or null. A player's own (or the configured default); an
   * operator's only if they sent their own: an operator key never borrows anyone's token.
   */
  credential: XblCredential | null;
}
