/**
 * Where a caller's Xbox Live credential comes from, on each transport:
 * - HTTP (queries, mutations, SSE subscriptions): the `Authorization` header;
 * - graphql-ws: `connectionParams.authorization` (or `Authorization`), else the subscribe message's
 *   `extensions.headers.authorization`, which is where yoga's GraphiQL puts its Headers editor over WS,
 *   else the upgrade request's header.
 * A request that brings none falls back to the configured default credential, if any.
 * An operator's API key (`x-api-key`) travels the same ways: HTTP header, `connectionParams` (`x-api-key`
 * or `apiKey`), the subscribe message's `extensions.headers`, or the upgrade request's header.
 */
import { parseXblAuthorization, type XblCredential } from '../../gsms/xbl-authorization.js';

export interface CredentialSources {
  request?: { headers: { get(name: string): string | null } };
  /** The WebSocket upgrade request (non-browser clients can set headers on it). */
  req?: { headers: Record<string, string | string[] | undefined> };
  connectionParams?: Readonly<Record<string, unknown>> | undefined;
  params?: { extensions?: Record<string, unknown> | null } | undefined;
}

function headerFromRecord(record: unknown, ...names: string[]): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  for (const [key, value] of Object.entries(record)) {
    if (names.includes(key.toLowerCase()) && typeof value === 'string') return value;
  }
  return undefined;
}

/** Where a value sent as a header arrives, on each transport, in order of precedence. */
function presentedHeader(sources: CredentialSources, header: string, ...paramNames: string[]): string | undefined {
  return (
    headerFromRecord(sources.connectionParams, header, ...paramNames) ??
    headerFromRecord(sources.params?.extensions?.headers, header) ??
    sources.request?.headers.get(header) ??
    headerFromRecord(sources.req?.headers, header) ??
    undefined
  );
}

export function credentialFrom(sources: CredentialSources, fallback: string | undefined): XblCredential | null {
  const presented = presentedHeader(sources, 'authorization');
  // A credential that was sent but is malformed is not replaced by the fallback: the caller meant it.
  return parseXblAuthorization(presented ?? fallback);
}

/** The operator API key the caller presented, if any (an empty value counts as presented, and fails). */
export function apiKeyFrom(sources: CredentialSources): string | undefined {
  return presentedHeader(sources, 'x-api-key', 'apikey');
}
