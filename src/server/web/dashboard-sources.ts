/**
 * The dashboard's files from src/dashboard/: its page and styles as written, its TypeScript bundled by
 * esbuild. Used by `npm start` (bundled in the process on the first request, so a fresh clone needs no build
 * step) and by `npm run build`, which writes the result to dist/web-assets/ so a production install, without
 * esbuild, never comes here.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AssetSource } from './asset-catalog.js';

const SOURCE_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

async function bundleScript(): Promise<Buffer> {
  // A devDependency: imported only here, never by a gateway running from dist/.
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
  return Buffer.from(result.outputFiles[0]!.contents);
}

/** `index.html` references its script and styles as `/dashboard/app.js` and `/dashboard/app.css`. */
export async function dashboardSources(): Promise<{ page: AssetSource; files: AssetSource[] }> {
  const [page, styles, script] = await Promise.all([readFile(`${SOURCE_DIR}index.html`), readFile(`${SOURCE_DIR}styles.css`), bundleScript()]);
  return {
    page: { name: 'index.html', contentType: 'text/html; charset=utf-8', body: page },
    files: [
      { name: 'app.css', contentType: 'text/css; charset=utf-8', body: styles },
      { name: 'app.js', contentType: 'text/javascript; charset=utf-8', body: script },
    ],
  };
}
