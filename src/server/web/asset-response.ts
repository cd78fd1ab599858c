/**
 * The HTTP answer for a web asset: the best encoding the client accepts (brotli, then gzip, then none),
 * a year of caching for a hashed name and revalidation by ETag (304) for the rest.
 */
import type { ContentEncoding, WebAsset } from './asset-catalog.js';

type FetchAPI = { Response: typeof Response };

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Encodings with a q-value above zero in `Accept-Encoding` (`*` counts for both). */
function accepted(header: string | null): Set<string> {
  const names = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [token = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (token && (q === undefined || Number(q.slice(2)) > 0)) names.add(token);
  }
  return names;
}

export function chooseEncoding(acceptEncoding: string | null): ContentEncoding | 'identity' {
  const names = accepted(acceptEncoding);
  if (names.has('br') || names.has('*')) return 'br';
  if (names.has('gzip') || names.has('x-gzip')) return 'gzip';
  return 'identity';
}

function etagOf(asset: WebAsset, encoding: ContentEncoding | 'identity'): string {
  return `"${asset.hash}${encoding === 'identity' ? '' : `-${encoding}`}"`;
}

/** Any of the asset's representations matches: the client's copy, in whatever encoding, is current. */
function notModified(asset: WebAsset, ifNoneMatch: string | null): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const bare = tag.trim().replace(/^W\//, '');
    return bare === '*' || bare === `"${asset.hash}"` || bare.startsWith(`"${asset.hash}-`);
  });
}

export async function assetResponse(asset: WebAsset, request: Request, fetchAPI: FetchAPI, extraHeaders: Record<string, string> = {}): Promise<Response> {
  const encoding = chooseEncoding(request.headers.get('accept-encoding'));
  const headers: Record<string, string> = {
    'content-type': asset.contentType,
    'cache-control': asset.immutable ? IMMUTABLE : REVALIDATE,
    etag: etagOf(asset, encoding),
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
    ...extraHeaders,
  };
  if (notModified(asset, request.headers.get('if-none-match'))) return new fetchAPI.Response(null, { status: 304, headers });
  const body = await asset.body(encoding);
  if (encoding !== 'identity') headers['content-encoding'] = encoding;
  headers['content-length'] = String(body.length);
  // A view, not a copy: the same bytes go out to every client.
  const view = new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength);
  return new fetchAPI.Response(request.method === 'HEAD' ? null : view, { status: 200, headers });
}
