/**
 * The JSON GSMS speaks, both ways, tolerant of the spec's quirks: `pollIntervalMilliseconds` as a string
 * or a number, `fulfillmentState` in any case, `abortIfQueued` as a boolean or the string "true"/"false".
 */
import { GsmsError } from './errors.js';

export type FulfillmentState = 'FULFILLED' | 'QUEUED' | 'ABORTED';

export interface PortMapping {
  name: string;
  internalPort: number;
  externalPort: number;
}

/** A GSMS answer to `POST /titles/{titleId}/clusters`, in the gateway's terms. */
export interface ClusterAnswer {
  state: FulfillmentState;
  pollIntervalMs: number;
  hostName: string | null;
  region: string | null;
  portMappings: PortMapping[];
  secureContext: string | null;
  correlationId: string | null;
}

/** XSAPI's default when GSMS sends no interval. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

const WIRE_STATE: Record<FulfillmentState, string> = { FULFILLED: 'Fulfilled', QUEUED: 'Queued', ABORTED: 'Aborted' };

/** Reads `abortIfQueued` as the spec allows it; `null` when the value is none of the accepted forms. */
export function parseAbortIfQueued(value: unknown): boolean | null {
  if (value === undefined || value === false || value === true) return value ?? false;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return null;
}

function parseState(value: unknown): FulfillmentState | null {
  if (typeof value !== 'string') return null;
  const upper = value.toUpperCase();
  return upper === 'FULFILLED' || upper === 'QUEUED' || upper === 'ABORTED' ? upper : null;
}

function parseInterval(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return DEFAULT_POLL_INTERVAL_MS;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(number) && number >= 0 ? number : null;
}

function parsePort(value: unknown): number | null {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 0 && number <= 65535 ? number : null;
}

function parsePortMappings(value: unknown): PortMapping[] | null {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return null;
  const mappings: PortMapping[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null) return null;
    const { Key, Value } = entry as { Key?: unknown; Value?: { internal?: unknown; external?: unknown } };
    const internalPort = parsePort(Value?.internal);
    const externalPort = parsePort(Value?.external);
    if (typeof Key !== 'string' || internalPort === null || externalPort === null) return null;
    mappings.push({ name: Key, internalPort, externalPort });
  }
  return mappings;
}

const optionalString = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

function unreadable(why: string, correlationId: string | null): never {
  throw new GsmsError('UPSTREAM_ERROR', `GSMS sent an unreadable answer: ${why}`, { correlationId: correlationId ?? undefined });
}

/**
 * Reads a GSMS success body. Throws a `GsmsError('UPSTREAM_ERROR')` when it is not a cluster answer,
 * so a broken upstream is a typed error for the caller, never a crash.
 */
export function parseClusterAnswer(bodyText: string, correlationId: string | null): ClusterAnswer {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return unreadable('not JSON', correlationId);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return unreadable('not a JSON object', correlationId);
  const raw = body as Record<string, unknown>;
  const state = parseState(raw.fulfillmentState) ?? unreadable('unknown fulfillmentState', correlationId);
  const pollIntervalMs = parseInterval(raw.pollIntervalMilliseconds) ?? unreadable('bad pollIntervalMilliseconds', correlationId);
  const portMappings = parsePortMappings(raw.portMappings) ?? unreadable('bad portMappings', correlationId);
  return {
    state,
    pollIntervalMs,
    hostName: optionalString(raw.hostName),
    region: optionalString(raw.region),
    portMappings,
    secureContext: optionalString(raw.secureContext),
    correlationId,
  };
}

/** Writes an answer as GSMS does: interval as a string of digits, states capitalised, ports as Key/Value. */
export function formatClusterAnswer(answer: Omit<ClusterAnswer, 'correlationId'>): Record<string, unknown> {
  const body: Record<string, unknown> = {
    pollIntervalMilliseconds: String(answer.pollIntervalMs),
    fulfillmentState: WIRE_STATE[answer.state],
  };
  if (answer.state === 'FULFILLED') {
    body.hostName = answer.hostName;
    body.region = answer.region;
    body.portMappings = answer.portMappings.map((m) => ({ Key: m.name, Value: { internal: m.internalPort, external: m.externalPort } }));
    body.secureContext = answer.secureContext ?? '';
  }
  return body;
}
