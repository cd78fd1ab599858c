/**
 * `GET /dashboard`: the operators' live page (src/dashboard/). Its script is TypeScript, bundled by esbuild
 * in this process on the first request and kept in memory: a fresh clone serves it with no build step, and
 * nothing is fetched from a CDN, so the page works with no internet.
 *
 * esbuild is imported only then, so a gateway without dev dependencies still starts (and answers 503 here).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';

export const DASHBOARD_PATH = '/dashboard';

const SOURCE_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/** Same-origin only: the page talks to this gateway and loads nothing from elsewhere. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  body: string;
  contentType: string;
}

const loaders: Record<string, () => Promise<Asset>> = {
  [DASHBOARD_PATH]: async () => ({ body: await readFile(`${SOURCE_DIR}index.html`, 'utf8'), contentType: 'text/html; charset=utf-8' }),
  [`${DASHBOARD_PATH}/app.css`]: async () => ({ body: await readFile(`${SOURCE_DIR}styles.css`, 'utf8'), contentType: 'text/css; charset=utf-8' }),
  [`${DASHBOARD_PATH}/app.js`]: async () => ({ body: await bundleScript(), contentType: 'text/javascript; charset=utf-8' }),
};

async function bundleScript(): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [`${SOURCE_DIR}main.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** Built once per process; a failed build is retried on the next request. */
const cache = new Map<string, Promise<Asset>>();

function load(path: string): Promise<Asset> | undefined {
  const loader = loaders[path];
  if (!loader) return undefined;
  let asset = cache.get(path);
  if (!asset) {
    asset = loader();
    asset.catch(() => cache.delete(path));
    cache.set(path, asset);
  }
  return asset;
}

export function useDashboard(logger: Logger): Plugin {
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      const path = url.pathname === `${DASHBOARD_PATH}/` ? DASHBOARD_PATH : url.pathname;
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const asset = load(path);
      if (!asset) return;
      return asset.then(
        ({ body, contentType }) =>
          endResponse(
            new fetchAPI.Response(request.method === 'HEAD' ? null : body, {
              headers: {
                'content-type': contentType,
                'cache-control': 'no-cache',
                'content-security-policy': CONTENT_SECURITY_POLICY,
                'x-content-type-options': 'nosniff',
              },
            }),
          ),
        (error: unknown) => {
          logger.error({ err: error, path }, 'dashboard asset unavailable');
          endResponse(new fetchAPI.Response('The dashboard could not be built on this server.', { status: 503 }));
        },
      );
    },
  };
}
