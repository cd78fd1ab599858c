/**
 * The errors callers see. Every one carries `extensions.code`; upstream errors also carry the GSMS
 * correlation id. Anything that is not a GraphQLError is masked by yoga as INTERNAL_SERVER_ERROR.
 */
import { GraphQLError } from 'graphql';
import { GsmsError } from '../gsms/errors.js';

export type GatewayErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_ERROR'
  | 'WATCH_TIMEOUT';

export function gatewayError(code: GatewayErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/** Maps a GSMS client error to what the caller sees; the message never contains a credential. */
export function fromGsmsError(error: GsmsError): GraphQLError {
  const messages: Record<GsmsError['code'], string> = {
    UNAUTHENTICATED: 'GSMS rejected the Xbox Live credential (401).',
    FORBIDDEN: 'GSMS denied this caller access to the title (403).',
    BAD_USER_INPUT: 'GSMS rejected the request as invalid (400).',
    UPSTREAM_UNAVAILABLE: 'GSMS is unavailable right now; try again later.',
    UPSTREAM_ERROR: 'GSMS answered with an error or an unreadable response.',
  };
  return gatewayError(error.code, messages[error.code], {
    ...(error.correlationId ? { correlationId: error.correlationId } : {}),
    ...(error.status ? { upstreamStatus: error.status } : {}),
  });
}

/** Re-throws GSMS errors as GraphQL errors; anything else goes on to be masked. */
export function rethrowUpstream(error: unknown): never {
  throw error instanceof GsmsError ? fromGsmsError(error) : error;
}

export function notFound(sessionId: string): GraphQLError {
  return gatewayError('NOT_FOUND', 'This gateway has not requested a cluster for that session.', { sessionId });
}
