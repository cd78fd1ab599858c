/** Checks on the ids callers pass, all before any upstream call (who may call is access.ts's job). */
import { parseSessionPath } from '../gsms/session-id.js';
import { parseTitleId } from '../gsms/title-id.js';
import { gatewayError } from './errors.js';

/** The canonical session path, or BAD_USER_INPUT. */
export function sessionKeyArg(sessionId: string): string {
  const session = parseSessionPath(sessionId);
  if (!session) {
    throw gatewayError(
      'BAD_USER_INPUT',
      'sessionId must be an MPSD session path: /serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}.',
      { argument: 'sessionId' },
    );
  }
  return session.canonical;
}

/** The decimal title id, or BAD_USER_INPUT. */
export function titleIdArg(titleId: string): string {
  const decimal = parseTitleId(titleId);
  if (decimal === null) {
    throw gatewayError('BAD_USER_INPUT', 'titleId must be an unsigned 32-bit number, in decimal or 0x hex.', { argument: 'titleId' });
  }
  return decimal;
}
