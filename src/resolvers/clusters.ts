/** `cluster` and `clusters`: what the gateway knows about requested sessions, from its registry only. */
import type { ClusterRecord } from '../clusters/cluster-record.js';
import type { FulfillmentState } from '../gsms/wire.js';
import { requireCredential, sessionKeyArg, titleIdArg } from './arguments.js';
import type { GatewayContext } from './context.js';
import { gatewayError } from './errors.js';

export async function findCluster(context: GatewayContext, sessionIdArg: string): Promise<ClusterRecord> {
  requireCredential(context);
  const sessionId = sessionKeyArg(sessionIdArg);
  const record = await context.services.registry.get(sessionId);
  if (!record) throw gatewayError('NOT_FOUND', 'This gateway has not requested a cluster for that session.', { sessionId });
  return record;
}

export async function listClusters(
  context: GatewayContext,
  args: { titleId?: string | null; state?: FulfillmentState | null },
): Promise<ClusterRecord[]> {
  requireCredential(context);
  const titleId = args.titleId == null ? undefined : titleIdArg(args.titleId);
  const records = await context.services.registry.list({ titleId, state: args.state ?? undefined });
  return records.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}
