/** `cluster` and `clusters`: what the gateway knows about requested sessions, from its registry only. */
import type { ClusterRecord } from '../clusters/cluster-record.js';
import type { FulfillmentState } from '../gsms/wire.js';
import { canSee, requireCaller } from './access.js';
import { sessionKeyArg, titleIdArg } from './arguments.js';
import type { GatewayContext } from './context.js';
import { notFound } from './errors.js';
import { standingsOf, type ClusterStatusValue } from './queue-standing.js';

export async function findCluster(context: GatewayContext, sessionIdArg: string): Promise<ClusterRecord> {
  requireCaller(context);
  const sessionId = sessionKeyArg(sessionIdArg);
  const record = await context.services.registry.get(sessionId);
  if (!record || !canSee(context, record)) throw notFound(sessionId);
  return record;
}

export async function listClusters(
  context: GatewayContext,
  args: { titleId?: string | null; state?: FulfillmentState | null; orderBy?: 'REQUESTED_AT' | 'QUEUE_POSITION' },
): Promise<ClusterStatusValue[]> {
  requireCaller(context);
  const titleId = args.titleId == null ? undefined : titleIdArg(args.titleId);
  const records = await context.services.registry.list({ titleId, state: args.state ?? undefined });
  const visible = records.filter((record) => canSee(context, record)).sort(byRequestTime);
  if (args.orderBy !== 'QUEUE_POSITION') return visible;
  // Looked up once here; the fields of each record reuse these (queue-standing.ts).
  const standings = await standingsOf(context, visible);
  const position = (record: ClusterRecord) => standings.get(record)?.queuePosition ?? Number.POSITIVE_INFINITY;
  const queued = visible.filter((record) => record.state === 'QUEUED');
  queued.sort((a, b) => a.titleId.localeCompare(b.titleId) || position(a) - position(b) || byRequestTime(a, b));
  return [...queued, ...visible.filter((record) => record.state !== 'QUEUED')];
}

function byRequestTime(a: ClusterRecord, b: ClusterRecord): number {
  return a.requestedAt.localeCompare(b.requestedAt);
}
