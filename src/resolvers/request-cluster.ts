/** `requestCluster`: ask GSMS for a cluster, record the answer, and watch the session while it is queued. */
import { publishChange } from '../clusters/pubsub.js';
import type { FulfillmentState } from '../gsms/wire.js';
import { requireUpstreamCredential } from './access.js';
import { sessionKeyArg, titleIdArg } from './arguments.js';
import type { GatewayContext } from './context.js';
import { rethrowUpstream } from './errors.js';

export interface RequestClusterArgs {
  titleId: string;
  sessionId: string;
  abortIfQueued?: boolean | null;
}

export async function requestCluster(context: GatewayContext, args: RequestClusterArgs): Promise<FulfillmentState> {
  const credential = requireUpstreamCredential(context);
  const titleId = titleIdArg(args.titleId);
  const sessionId = sessionKeyArg(args.sessionId);
  const { gsms, registry, pubsub, poller, logger } = context.services;

  const answer = await gsms
    .requestCluster({ titleId, sessionId, abortIfQueued: args.abortIfQueued ?? false, authorization: credential.header })
    .catch(rethrowUpstream);
  const update = await registry.recordRequest({
    sessionId,
    titleId,
    answer,
    requester: credential.userHash,
    credential: credential.header,
  });
  if (update.changed) publishChange(pubsub, update.record);
  poller.watch(update.record);
  logger.info({ titleId, sessionId, state: answer.state, correlationId: answer.correlationId }, 'cluster requested');
  return answer.state;
}
