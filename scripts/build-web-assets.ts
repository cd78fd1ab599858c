/**
 * `npm run build`, second step: GraphiQL's files and the dashboard (bundled by esbuild) written to
 * dist/web-assets/ under the names the server uses, each beside its brotli (quality 11) and gzip forms, with
 * manifest.json listing them. A gateway started from dist/ serves these and never needs esbuild (a dev
 * dependency) or the compression work at run time.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  assetFromSource,
  BUILD_BROTLI_QUALITY,
  compress,
  CONTENT_ENCODINGS,
  ENCODING_SUFFIX,
  type Manifest,
  type ManifestEntry,
  type WebAsset,
} from '../src/server/web/asset-catalog.js';
import { DASHBOARD_GROUP, dashboardAssets } from '../src/server/web/dashboard.js';
import { dashboardSources } from '../src/server/web/dashboard-sources.js';
import { GRAPHIQL_ASSETS_PATH, GRAPHIQL_GROUP, graphiqlSources } from '../src/server/web/graphiql-assets.js';

const OUT = new URL('../dist/web-assets/', import.meta.url);

/** The file an asset is stored in: its served path without the leading slash, `index.html` for a page. */
function fileOf(asset: WebAsset): string {
  const path = asset.path.slice(1);
  return path.includes('.') ? path : `${path}/index.html`;
}

async function write(asset: WebAsset, body: Buffer): Promise<ManifestEntry> {
  const file = fileOf(asset);
  await mkdir(new URL(file.slice(0, file.lastIndexOf('/') + 1), OUT), { recursive: true });
  await writeFile(new URL(file, OUT), body);
  // Compressed here at the highest settings, one after another: this machine's cores are shared.
  for (const encoding of CONTENT_ENCODINGS) await writeFile(new URL(file + ENCODING_SUFFIX[encoding], OUT), await compress(body, encoding, BUILD_BROTLI_QUALITY));
  return { name: asset.name, path: asset.path, contentType: asset.contentType, immutable: asset.immutable, hash: asset.hash, file };
}

async function writeGroup(assets: WebAsset[]): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for (const asset of assets) entries.push(await write(asset, await asset.body('identity')));
  return entries;
}

const started = Date.now();
await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
const manifest: Manifest = {
  [GRAPHIQL_GROUP]: await writeGroup((await graphiqlSources()).map((source) => assetFromSource(source, { basePath: GRAPHIQL_ASSETS_PATH }))),
  [DASHBOARD_GROUP]: await writeGroup(dashboardAssets(await dashboardSources())),
};
await writeFile(new URL('manifest.json', OUT), `${JSON.stringify(manifest, null, 2)}\n`);
const count = Object.values(manifest).reduce((sum, entries) => sum + entries.length, 0);
console.log(`web assets: ${count} files (+ .br and .gz) in ${fileURLToPath(OUT)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
