/**
 * Works out who is calling from what the request presented (see credentials.ts for where each value is
 * read on each transport). Used by the context factory, so HTTP and WebSocket operations get the same
 * answer, and by the graphql-ws limits, which count connections per identity.
 */
import type { XblCredential } from '../../gsms/xbl-authorization.js';
import type { Caller } from '../../resolvers/context.js';
import { gatewayError } from '../../resolvers/errors.js';
import { apiKeyFrom, credentialFrom, type CredentialSources } from './credentials.js';
import type { OperatorKeys } from './operator-keys.js';

export interface CallerIdentity {
  caller: Caller | null;
  credential: XblCredential | null;
}

/**
 * A presented `x-api-key` must be a configured operator key: a wrong one is UNAUTHENTICATED, never a silent
 * downgrade to a player, so a misconfigured dashboard finds out at once. Operators get no default
 * credential: whatever they do upstream, they do with their own.
 */
export function identifyCaller(sources: CredentialSources, operatorKeys: OperatorKeys, defaultAuthorization: string | undefined): CallerIdentity {
  const apiKey = apiKeyFrom(sources);
  if (apiKey !== undefined) {
    const keyId = operatorKeys.match(apiKey);
    if (keyId === null) throw gatewayError('UNAUTHENTICATED', 'The x-api-key is not a valid operator key.');
    return { caller: { kind: 'operator', keyId }, credential: credentialFrom(sources, undefined) };
  }
  const credential = credentialFrom(sources, defaultAuthorization);
  return { caller: credential ? { kind: 'player', userHash: credential.userHash } : null, credential };
}

/** A stable name for counting a caller's connections; callers without an identity count by address. */
export function identityKey(identity: CallerIdentity, remoteAddress: string | undefined): string {
  if (identity.caller?.kind === 'operator') return `operator:${identity.caller.keyId}`;
  if (identity.caller?.kind === 'player') return `player:${identity.caller.userHash}`;
  return `address:${remoteAddress ?? 'unknown'}`;
}
