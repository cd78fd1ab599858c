/**
 * The files behind GraphiQL and the dashboard, ready to serve light: each in its identity form and
 * compressed (brotli and gzip), compressed once and kept, never per request.
 *
 * Two sources, one shape:
 * - from their sources in this process (`npm start`, tests): hashed as they load, compressed the first time
 *   an encoding is asked for (brotli at a quality that takes well under a second for GraphiQL's 5 MB script);
 * - from `dist/web-assets/` (`npm run build`): written there by scripts/build-web-assets.ts with the same
 *   names, compressed at the highest settings, and read from disk when first asked for.
 *
 * An `immutable` asset has its content hash in its name: it is cached for a year and never revalidated.
 * The others (pages, and the unhashed names kept for old links) are revalidated with their ETag.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

export type ContentEncoding = 'br' | 'gzip';
export const CONTENT_ENCODINGS: readonly ContentEncoding[] = ['br', 'gzip'];

/** A file as its producer gives it, before naming and compression. */
export interface AssetSource {
  /** Its logical name, e.g. `graphiql.js`. */
  name: string;
  contentType: string;
  body: Buffer;
}

export interface WebAsset {
  name: string;
  /** Where it is served, e.g. `/graphiql/graphiql.3f9a0c1d2e4b.js`. */
  path: string;
  contentType: string;
  immutable: boolean;
  /** A strong validator of the identity form (the content hash); each encoding adds its own suffix. */
  hash: string;
  /** The body in that encoding (loaded or compressed on first use, then kept). */
  body(encoding: ContentEncoding | 'identity'): Promise<Buffer>;
}

/** An entry of `manifest.json` in the built assets' folder. */
export interface ManifestEntry {
  name: string;
  path: string;
  contentType: string;
  immutable: boolean;
  hash: string;
  /** Relative to the folder; the encodings sit beside it as `<file>.br` and `<file>.gz`. */
  file: string;
}

export type Manifest = Record<string, ManifestEntry[]>;

export const ENCODING_SUFFIX: Record<ContentEncoding, string> = { br: '.br', gzip: '.gz' };

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Brotli quality for compression in the serving process: 5 is within 10–15% of 11 at a twentieth of the time. */
export const RUNTIME_BROTLI_QUALITY = 5;
export const BUILD_BROTLI_QUALITY = 11;

/** Compresses off the event loop (zlib's thread pool). */
export function compress(body: Buffer, encoding: ContentEncoding, brotliQuality: number): Promise<Buffer> {
  return encoding === 'br'
    ? brotliAsync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: brotliQuality, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } })
    : gzipAsync(body, { level: 9 });
}

export function contentHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

/** `graphiql.js` → `graphiql.<hash>.js`. */
export function hashedName(name: string, hash: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? `${name}.${hash}` : `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

function memoize<K, V>(load: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const cache = new Map<K, Promise<V>>();
  return (key) => {
    let value = cache.get(key);
    if (!value) {
      value = load(key);
      // A failure (a file gone, say) is not kept: the next request tries again.
      value.catch(() => cache.delete(key));
      cache.set(key, value);
    }
    return value;
  };
}

/**
 * An asset from its source. `path` given: served there and revalidated (a page, or an unhashed name);
 * otherwise served under `basePath` with its content hash in the name, immutable.
 */
export function assetFromSource(source: AssetSource, placement: { basePath: string } | { path: string }, brotliQuality = RUNTIME_BROTLI_QUALITY): WebAsset {
  const hash = contentHash(source.body);
  const immutable = !('path' in placement);
  return {
    name: source.name,
    path: 'path' in placement ? placement.path : `${placement.basePath}/${hashedName(source.name, hash)}`,
    contentType: source.contentType,
    immutable,
    hash,
    body: memoize(async (encoding) => (encoding === 'identity' ? source.body : compress(source.body, encoding, brotliQuality))),
  };
}

/** The assets of one group (`graphiql`, `dashboard`) in a built folder, or undefined when there is none. */
export async function assetsFromBuild(folder: URL, group: string): Promise<WebAsset[] | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(new URL('manifest.json', folder), 'utf8')) as Manifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const entries = manifest[group];
  if (!entries) return undefined;
  return entries.map((entry) => ({
    name: entry.name,
    path: entry.path,
    contentType: entry.contentType,
    immutable: entry.immutable,
    hash: entry.hash,
    body: memoize((encoding) => readFile(new URL(entry.file + (encoding === 'identity' ? '' : ENCODING_SUFFIX[encoding]), folder))),
  }));
}

/** Where `npm run build` puts the assets: `dist/web-assets/`, beside `dist/server/`. Absent when run from `src/`. */
export const BUILT_ASSETS_FOLDER = new URL('../../web-assets/', import.meta.url);
