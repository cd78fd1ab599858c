/**
 * What the gateway remembers about one requested session: the last answer GSMS gave for it, and who
 * asked. The credential used to poll is kept apart (see ClusterRegistry.pollCredential) so that a record
 * can be published, logged or returned without ever carrying a token.
 */
import type { ClusterAnswer, FulfillmentState, PortMapping } from '../gsms/wire.js';

/**
 * The last answer (state, interval, connection info, and the `X-XblCorrelationId` it came with), plus what
 * the gateway adds.
 */
export interface ClusterRecord extends ClusterAnswer {
  /** Canonical MPSD session path: the record's key. */
  sessionId: string;
  /** Decimal title id. */
  titleId: string;
  /** ISO-8601 UTC. */
  requestedAt: string;
  /** When GSMS last answered for this session (the request or a poll): the poller's clock. */
  updatedAt: string;
  /** When the session was last requested through `requestCluster`: the watch time counts from here. */
  watchStartedAt: string;
  /** Xbox Live user hashes of everyone who requested this session; the last one is the most recent. */
  requesters: string[];
  /** Upstream posts made for this session (the request and every poll). */
  pollCount: number;
  /** Bumped on every state change; subscribers use it to drop events they have already seen. */
  version: number;
}

export const isTerminal = (state: FulfillmentState): boolean => state === 'FULFILLED' || state === 'ABORTED';

/** The parts of an upstream answer a record keeps: all of them, copied so the record owns its values. */
export function answerFields(answer: ClusterAnswer): ClusterAnswer {
  const { state, pollIntervalMs, hostName, region, portMappings, secureContext, correlationId } = answer;
  return { state, pollIntervalMs, hostName, region, portMappings, secureContext, correlationId };
}

/** Whether an answer changes what subscribers see (state or connection info). */
export function answerChanges(record: ClusterRecord, answer: ClusterAnswer): boolean {
  return (
    record.state !== answer.state ||
    record.hostName !== answer.hostName ||
    record.region !== answer.region ||
    record.secureContext !== answer.secureContext ||
    !samePortMappings(record.portMappings, answer.portMappings)
  );
}

/** Field by field: this runs on every poll, and two JSON strings per poll were garbage for nothing. */
function samePortMappings(a: readonly PortMapping[], b: readonly PortMapping[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.internalPort !== y.internalPort || x.externalPort !== y.externalPort) return false;
  }
  return true;
}
