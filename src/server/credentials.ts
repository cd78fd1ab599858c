/**
 * Where a caller's Xbox Live credential comes from, on each transport:
 * - HTTP (queries, mutations, SSE subscriptions): the `Authorization` header;
 * - graphql-ws: `connectionParams.authorization` (or `Authorization`), else the subscribe message's
 *   `extensions.headers.authorization`, which is where yoga's GraphiQL puts its Headers editor over WS,
 *   else the upgrade request's header.
 * A request that brings none falls back to the configured default credential, if any.
 */
import { parseXblAuthorization, type XblCredential } from '../gsms/xbl-authorization.js';

export interface CredentialSources {
  request?: { headers: { get(name: string): string | null } };
  /** The WebSocket upgrade request (non-browser clients can set headers on it). */
  req?: { headers: Record<string, string | string[] | undefined> };
  connectionParams?: Readonly<Record<string, unknown>> | undefined;
  params?: { extensions?: Record<string, unknown> | null } | undefined;
}

function headerFromRecord(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  }
  return undefined;
}

export function credentialFrom(sources: CredentialSources, fallback: string | undefined): XblCredential | null {
  const presented =
    headerFromRecord(sources.connectionParams) ??
    headerFromRecord(sources.params?.extensions?.headers) ??
    sources.request?.headers.get('authorization') ??
    headerFromRecord(sources.req?.headers) ??
    undefined;
  // A credential that was sent but is malformed is not replaced by the fallback: the caller meant it.
  return parseXblAuthorization(presented ?? fallback);
}
