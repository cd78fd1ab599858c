/**
 * The emulator's HTTP face: `POST /titles/{titleId}/clusters`, checked in the order the real service would
 * reject a request: path and method (404/405), title id (400), credential (401), denied title (403), body
 * (413/400). Only then is a fault drawn, and only an unfaulted request touches the cluster pool.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseSessionPath } from '../session-id.js';
import { parseTitleId } from '../title-id.js';
import { formatClusterAnswer, parseAbortIfQueued, type FulfillmentState } from '../wire.js';
import { parseXblAuthorization } from '../xbl-authorization.js';
import type { ClusterPool } from './cluster-pool.js';
import type { FaultInjector } from './fault-injector.js';
import { errorBody, sendJson, type ExtraHeaders } from './json-response.js';
import { readBody } from './read-body.js';
import type { RequestLog } from './request-log.js';

export interface ClusterHandlerDeps {
  pool: ClusterPool;
  faults: FaultInjector;
  log: RequestLog;
  pollIntervalMs: number;
  /** Decimal title ids. */
  deniedTitles: ReadonlySet<string>;
}

/** A cluster request body is two short members; 64 KiB is generous and bounds what a caller can make us hold. */
export const MAX_BODY_BYTES = 64 * 1024;

const CLUSTERS_PATH = /^\/titles\/([^/]*)\/clusters$/;

type ClusterRequest =
  | { ok: true; sessionKey: string; abortIfQueued: boolean }
  | { ok: false; message: string; sessionKey: string | null };

const ignore = (): void => {};

export function createClusterHandler(deps: ClusterHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // A client that resets mid-request must never become an unhandled 'error' (a process crash).
    req.on('error', ignore);
    res.on('error', ignore);
    handle(deps, req, res).catch((error: unknown) => answerInternalError(res, error));
  };
}

async function handle(deps: ClusterHandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = CLUSTERS_PATH.exec(pathOf(req.url) ?? '');
  if (!match) return sendJson(res, 404, errorBody(404, 'no such resource'));
  if (req.method !== 'POST') return sendJson(res, 405, errorBody(405, `${req.method} is not allowed here`), { Allow: 'POST' });

  const rawTitle = match[1] ?? '';
  // The spec's client formats title ids in decimal, so the emulator accepts only that (no 0x form).
  const titleId = /^\d+$/.test(rawTitle) ? parseTitleId(rawTitle) : null;
  const answer = (status: number, body: unknown, sessionKey: string | null, state: FulfillmentState | null, extra?: ExtraHeaders): void => {
    deps.log.add({ titleId: titleId ?? rawTitle, sessionKey, status, state });
    sendJson(res, status, body, extra);
  };
  const fail = (status: number, message: string, sessionKey: string | null = null, extra?: ExtraHeaders): void =>
    answer(status, errorBody(status, message), sessionKey, null, extra);

  if (titleId === null) return fail(400, 'title id must be an unsigned 32-bit decimal number');
  if (!parseXblAuthorization(req.headers.authorization)) return fail(401, 'Authorization must be XBL3.0 x=<userhash>;<token>');
  if (deps.deniedTitles.has(titleId)) return fail(403, `the caller may not use title ${titleId}`);

  const body = await readBody(req, MAX_BODY_BYTES);
  if (body.kind === 'aborted') return;
  if (body.kind === 'too-large') {
    return fail(413, `the body exceeds ${MAX_BODY_BYTES} bytes`, null, body.drained ? {} : { Connection: 'close' });
  }
  const request = parseClusterRequest(body.bytes);
  if (!request.ok) return fail(400, request.message, request.sessionKey);

  const fault = deps.faults.draw();
  if (fault) {
    return fail(fault.status, 'emulated fault', request.sessionKey, fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {});
  }

  const result = deps.pool.request(titleId, request.sessionKey, request.abortIfQueued);
  const cluster = result.state === 'FULFILLED' ? result.cluster : null;
  const wire = formatClusterAnswer({
    state: result.state,
    pollIntervalMs: deps.pollIntervalMs,
    hostName: cluster?.hostName ?? null,
    region: cluster?.region ?? null,
    portMappings: cluster?.portMappings ?? [],
    secureContext: cluster?.secureContext ?? null,
  });
  answer(200, wire, request.sessionKey, result.state);
}

function pathOf(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://emulator.invalid').pathname;
  } catch {
    return null;
  }
}

function parseClusterRequest(bytes: Buffer): ClusterRequest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, message: 'the body is not JSON', sessionKey: null };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, message: 'the body must be a JSON object', sessionKey: null };
  }
  const { sessionId, abortIfQueued: rawAbort } = json as Record<string, unknown>;
  if (typeof sessionId !== 'string') return { ok: false, message: 'sessionId must be a string', sessionKey: null };
  const session = parseSessionPath(sessionId);
  if (!session) {
    return {
      ok: false,
      message: 'sessionId must be /serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}',
      sessionKey: null,
    };
  }
  const abortIfQueued = parseAbortIfQueued(rawAbort);
  if (abortIfQueued === null) {
    return { ok: false, message: 'abortIfQueued must be true, false, "true" or "false"', sessionKey: session.canonical };
  }
  return { ok: true, sessionKey: session.canonical, abortIfQueued };
}

function answerInternalError(res: ServerResponse, error: unknown): void {
  console.error('gsms emulator: request handler failed', error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  try {
    sendJson(res, 500, errorBody(500, 'internal emulator error'), { Connection: 'close' });
  } catch {
    res.destroy();
  }
}
