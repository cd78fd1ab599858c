/**
 * `GET /dashboard`: the operators' live page (src/dashboard/). Its script and styles are served under
 * hashed names (cached for a year), the page itself revalidated by ETag, all compressed as the browser
 * accepts. Nothing is fetched from a CDN, so the page works with no internet.
 *
 * From `dist/` the files come built (`npm run build`); from `src/` the script is bundled by esbuild in this
 * process on the first request. A gateway with neither (no build and no dev dependencies) answers 503 here.
 */
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { assetFromSource, assetsFromBuild, BUILT_ASSETS_FOLDER, RUNTIME_BROTLI_QUALITY, type AssetSource, type WebAsset } from './asset-catalog.js';
import { assetResponse } from './asset-response.js';

export const DASHBOARD_PATH = '/dashboard';
export const DASHBOARD_GROUP = 'dashboard';

/** Same-origin only: the page talks to this gateway and loads nothing from elsewhere. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The dashboard's assets: each file under its hashed name and under its plain one (for links to it), and
 * the page with its references rewritten to the hashed names.
 */
export function dashboardAssets(sources: { page: AssetSource; files: AssetSource[] }, brotliQuality = RUNTIME_BROTLI_QUALITY): WebAsset[] {
  const files = sources.files.map((file) => assetFromSource(file, { basePath: DASHBOARD_PATH }, brotliQuality));
  const plain = sources.files.map((file) => assetFromSource(file, { path: `${DASHBOARD_PATH}/${file.name}` }, brotliQuality));
  let html = sources.page.body.toString('utf8');
  for (const file of files) html = html.replaceAll(`"${DASHBOARD_PATH}/${file.name}"`, `"${file.path}"`);
  const page = assetFromSource({ ...sources.page, body: Buffer.from(html) }, { path: DASHBOARD_PATH }, brotliQuality);
  return [page, ...files, ...plain];
}

async function loadDashboardAssets(): Promise<Map<string, WebAsset>> {
  const built = await assetsFromBuild(BUILT_ASSETS_FOLDER, DASHBOARD_GROUP);
  const assets = built ?? dashboardAssets(await (await import('./dashboard-sources.js')).dashboardSources());
  return new Map(assets.map((asset) => [asset.path, asset]));
}

let loaded: Promise<Map<string, WebAsset>> | undefined;

/** One catalog per process; a failed load (a build error) is tried again on the next request. */
function dashboardCatalog(): Promise<Map<string, WebAsset>> {
  if (!loaded) {
    loaded = loadDashboardAssets();
    loaded.catch(() => (loaded = undefined));
  }
  return loaded;
}

export function useDashboard(logger: Logger): Plugin {
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      const path = url.pathname === `${DASHBOARD_PATH}/` ? DASHBOARD_PATH : url.pathname;
      if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      return dashboardCatalog()
        .then(async (assets) => {
          const asset = assets.get(path);
          endResponse(
            asset
              ? await assetResponse(asset, request, fetchAPI, { 'content-security-policy': CONTENT_SECURITY_POLICY })
              : new fetchAPI.Response('Not found', { status: 404 }),
          );
        })
        .catch((error: unknown) => {
          logger.error({ err: error, path }, 'dashboard asset unavailable');
          endResponse(new fetchAPI.Response('The dashboard could not be built on this server.', { status: 503 }));
        });
    },
  };
}
