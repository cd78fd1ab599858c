/**
 * The body of a delivery: `{"type","timestamp","data"}` with the session as `ClusterStatus` shows it. Built
 * field by field from the record (never spread), so nothing the record might carry besides (requesters,
 * poll counts, and certainly no credential) reaches a receiver.
 */
import type { ClusterStateEvent } from '../clusters/state-events.js';

export interface WebhookPayload {
  type: ClusterStateEvent['type'];
  timestamp: string;
  data: {
    sessionId: string;
    titleId: string;
    state: string;
    hostName: string | null;
    region: string | null;
    portMappings: { name: string; internalPort: number; externalPort: number }[];
    secureContext: string | null;
    correlationId: string | null;
    requestedAt: string;
    updatedAt: string;
  };
}

export function webhookPayload(event: ClusterStateEvent): WebhookPayload {
  const record = event.record;
  return {
    type: event.type,
    timestamp: event.at,
    data: {
      sessionId: record.sessionId,
      titleId: record.titleId,
      state: record.state,
      hostName: record.hostName ?? null,
      region: record.region ?? null,
      portMappings: (record.portMappings ?? []).map(({ name, internalPort, externalPort }) => ({ name, internalPort, externalPort })),
      secureContext: record.secureContext ?? null,
      correlationId: record.correlationId ?? null,
      requestedAt: record.requestedAt,
      updatedAt: record.updatedAt,
    },
  };
}
