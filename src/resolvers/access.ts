/**
 * Who may see and do what. Every resolver asks here, so the access model lives in one place:
 * - a player sees a session only if their Xbox Live identity (the `x=` user hash) is among its requesters:
 *   everyone who requested a session may see it (polling uses the most recent requester's credential);
 * - an operator (a valid `x-api-key`) sees every session, but calls GSMS only with their own credential;
 * - anyone else is UNAUTHENTICATED.
 * A session the caller may not see answers NOT_FOUND, exactly like a session never requested, so a caller
 * cannot learn from the error that someone else's session exists (FORBIDDEN would confirm it).
 */
import type { ClusterRecord } from '../clusters/cluster-record.js';
import type { XblCredential } from '../gsms/xbl-authorization.js';
import type { Caller, GatewayContext } from './context.js';
import { gatewayError } from './errors.js';

/** The caller, or UNAUTHENTICATED before anything is read. */
export function requireCaller(context: GatewayContext): Caller {
  if (!context.caller) {
    throw gatewayError(
      'UNAUTHENTICATED',
      'Send an Xbox Live credential (`Authorization: XBL3.0 x=<userhash>;<token>`) or an operator key (`x-api-key`).',
    );
  }
  return context.caller;
}

/** Whether the caller may see this session's status. */
export function canSee(context: GatewayContext, record: ClusterRecord): boolean {
  const caller = context.caller;
  if (!caller) return false;
  if (caller.kind === 'operator') return true;
  return record.requesters.includes(caller.userHash);
}

/**
 * The credential to call GSMS with: the caller's own. An operator key alone is FORBIDDEN here (the
 * operator is known, but has no Xbox Live identity of their own to act with, and never borrows one).
 */
export function requireUpstreamCredential(context: GatewayContext): XblCredential {
  const caller = requireCaller(context);
  if (context.credential) return context.credential;
  if (caller.kind === 'operator') {
    throw gatewayError(
      'FORBIDDEN',
      'An operator key reads sessions but cannot request clusters; send your own Xbox Live credential (`Authorization: XBL3.0 x=<userhash>;<token>`) as well.',
    );
  }
  throw gatewayError('UNAUTHENTICATED', 'Send an Xbox Live credential: `Authorization: XBL3.0 x=<userhash>;<token>`.');
}
