/**
 * The webhook endpoints' API: operators only. A player credential is FORBIDDEN (they are known, but
 * endpoints see every title's sessions), no credential UNAUTHENTICATED. Bad input is BAD_USER_INPUT, an
 * unknown endpoint NOT_FOUND.
 */
import type { ClusterStateEventType } from '../clusters/state-events.js';
import type { WebhookDelivery, WebhookEndpoint } from '../webhooks/webhook-model.js';
import { WebhookInputError, type CreatedEndpoint, type WebhookService } from '../webhooks/webhook-service.js';
import { requireCaller } from './access.js';
import { titleIdArg } from './arguments.js';
import type { GatewayContext } from './context.js';
import { gatewayError } from './errors.js';

/** The most `webhookDeliveries` returns (each endpoint keeps 200). */
const MAX_LAST = 200;

function requireOperator(context: GatewayContext): WebhookService {
  const caller = requireCaller(context);
  if (caller.kind !== 'operator') throw gatewayError('FORBIDDEN', 'Webhook endpoints are managed with an operator key (`x-api-key`).');
  const webhooks = context.services.webhooks;
  if (!webhooks) throw new Error('webhooks are not wired into this gateway');
  return webhooks;
}

function endpointNotFound(id: string) {
  return gatewayError('NOT_FOUND', 'There is no webhook endpoint with that id.', { endpointId: id });
}

export async function createWebhookEndpoint(
  context: GatewayContext,
  args: { url: string; titleId?: string | null; eventTypes?: ClusterStateEventType[] | null },
): Promise<CreatedEndpoint> {
  const webhooks = requireOperator(context);
  const titleId = args.titleId == null ? null : titleIdArg(args.titleId);
  try {
    return await webhooks.createEndpoint({ url: args.url, titleId, eventTypes: args.eventTypes ?? null });
  } catch (error) {
    if (error instanceof WebhookInputError) throw gatewayError('BAD_USER_INPUT', error.message);
    throw error;
  }
}

export async function rotateWebhookSecret(context: GatewayContext, id: string): Promise<CreatedEndpoint> {
  const rotated = await requireOperator(context).rotateSecret(id);
  if (!rotated) throw endpointNotFound(id);
  return rotated;
}

export async function deleteWebhookEndpoint(context: GatewayContext, id: string): Promise<boolean> {
  return requireOperator(context).deleteEndpoint(id);
}

export async function listWebhookEndpoints(context: GatewayContext): Promise<WebhookEndpoint[]> {
  return requireOperator(context).listEndpoints();
}

export async function listWebhookDeliveries(context: GatewayContext, endpointId: string, last: number): Promise<WebhookDelivery[]> {
  const webhooks = requireOperator(context);
  if (last < 0 || last > MAX_LAST) throw gatewayError('BAD_USER_INPUT', `last must be between 0 and ${MAX_LAST}.`, { argument: 'last' });
  if (!(await webhooks.listEndpoints()).some((endpoint) => endpoint.id === endpointId)) throw endpointNotFound(endpointId);
  return webhooks.listDeliveries(endpointId, last);
}
