/** `cluster` and `clusters`: what the gateway knows about requested sessions, from its registry only. */
import type { ClusterRecord } from '../clusters/cluster-record.js';
import type { FulfillmentState } from '../gsms/wire.js';
import { canSee, requireCaller } from './access.js';
import { sessionKeyArg, titleIdArg } from './arguments.js';
import type { GatewayContext } from './context.js';
import { notFound } from './errors.js';

export async function findCluster(context: GatewayContext, sessionIdArg: string): Promise<ClusterRecord> {
  requireCaller(context);
  const sessionId = sessionKeyArg(sessionIdArg);
  const record = await context.services.registry.get(sessionId);
  if (!record || !canSee(context, record)) throw notFound(sessionId);
  return record;
}

export async function listClusters(
  context: GatewayContext,
  args: { titleId?: string | null; state?: FulfillmentState | null },
): Promise<ClusterRecord[]> {
  requireCaller(context);
  const titleId = args.titleId == null ? undefined : titleIdArg(args.titleId);
  const records = await context.services.registry.list({ titleId, state: args.state ?? undefined });
  return records.filter((record) => canSee(context, record)).sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}
