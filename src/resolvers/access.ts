/**
 * Who may see a session. Every resolver that returns a session's status asks here, so the access model
 * lives in one place.
 */
import type { ClusterRecord } from '../clusters/cluster-record.js';
import type { GatewayContext } from './context.js';

/** Whether the caller may see this session's status. For now: any authenticated caller. */
export function canSee(context: GatewayContext, _record: ClusterRecord): boolean {
  return context.credential !== null;
}
