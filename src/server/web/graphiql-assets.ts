/**
 * GraphiQL served light and offline: a small HTML page, and GraphiQL's own built files (script, styles,
 * Monaco's three workers, icon) as separate same-origin assets, hashed, compressed and cached for a year.
 *
 * The files come from @graphql-yoga/render-graphiql, which ships them as strings meant to be inlined into
 * one 9 MB page (its `renderGraphiQL`); here each string becomes a file, and the page references them. The
 * workers, which that page hands to Monaco as blob URLs, get same-origin URLs instead. Nothing is loaded
 * from a CDN, so the page works with no internet.
 *
 * Nothing is loaded before the first GraphiQL request: the 9 MB module costs start time and memory a
 * production gateway (GRAPHIQL=false) never needs.
 */
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { assetFromSource, assetsFromBuild, BUILT_ASSETS_FOLDER, type AssetSource, type WebAsset } from './asset-catalog.js';
import { assetResponse } from './asset-response.js';

export const GRAPHIQL_ASSETS_PATH = '/graphiql';
export const GRAPHIQL_GROUP = 'graphiql';

/** Monaco asks for its workers by these labels (as render-graphiql's own page maps them). */
const WORKERS = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' } as const;

const JS = 'text/javascript; charset=utf-8';

function fromDataUrl(name: string, dataUrl: string): AssetSource {
  const match = /^data:([^;,]+)(;base64)?,(.*)$/s.exec(dataUrl);
  if (!match) throw new Error(`render-graphiql's ${name} is not a data URL`);
  const [, contentType, base64, data] = match as unknown as [string, string, string | undefined, string];
  return { name, contentType, body: base64 ? Buffer.from(data, 'base64') : Buffer.from(decodeURIComponent(data)) };
}

/** GraphiQL's files from render-graphiql's build, one source each. */
export async function graphiqlSources(): Promise<AssetSource[]> {
  const built = await import('@graphql-yoga/render-graphiql/graphiql');
  return [
    { name: 'graphiql.js', contentType: JS, body: Buffer.from(built.js) },
    { name: 'graphiql.css', contentType: 'text/css; charset=utf-8', body: Buffer.from(built.css) },
    fromDataUrl('favicon.ico', built.favicon),
    { name: WORKERS.editorWorkerService, contentType: JS, body: Buffer.from(built.editorWorkerService) },
    { name: WORKERS.json, contentType: JS, body: Buffer.from(built.jsonWorker) },
    { name: WORKERS.graphql, contentType: JS, body: Buffer.from(built.graphqlWorker) },
  ];
}

export class GraphiQLAssets {
  readonly #byPath: Map<string, WebAsset>;
  readonly #byName: Map<string, WebAsset>;

  constructor(assets: WebAsset[]) {
    this.#byPath = new Map(assets.map((asset) => [asset.path, asset]));
    this.#byName = new Map(assets.map((asset) => [asset.name, asset]));
  }

  at(path: string): WebAsset | undefined {
    return this.#byPath.get(path);
  }

  url(name: string): string {
    const asset = this.#byName.get(name);
    if (!asset) throw new Error(`GraphiQL asset ${name} is missing`);
    return asset.path;
  }
}

/** Built assets when the gateway runs from `dist/`, else the sources hashed in this process. */
async function loadGraphiQLAssets(): Promise<GraphiQLAssets> {
  const built = await assetsFromBuild(BUILT_ASSETS_FOLDER, GRAPHIQL_GROUP);
  const assets = built ?? (await graphiqlSources()).map((source) => assetFromSource(source, { basePath: GRAPHIQL_ASSETS_PATH }));
  return new GraphiQLAssets(assets);
}

let loaded: Promise<GraphiQLAssets> | undefined;

/** One catalog per process, shared by every gateway in it; a failed load is tried again next time. */
export function graphiqlAssets(): Promise<GraphiQLAssets> {
  if (!loaded) {
    loaded = loadGraphiQLAssets();
    loaded.catch(() => (loaded = undefined));
  }
  return loaded;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON inside an inline script: `<` escaped, so no value can close the script element. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function graphiqlPage(assets: GraphiQLAssets, options: GraphiQLOptions): string {
  const workers = Object.fromEntries(Object.entries(WORKERS).map(([label, name]) => [label, assets.url(name)]));
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title || 'Yoga GraphiQL')}</title>
    <link rel="icon" href="${escapeHtml(options.favicon || assets.url('favicon.ico'))}" />
    <link rel="stylesheet" href="${assets.url('graphiql.css')}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script>
      const workers = ${inlineJson(workers)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (moduleId, label) => workers[label] };
    </script>
    <script src="${assets.url('graphiql.js')}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${inlineJson(options)});
    </script>
  </body>
</html>
`;
}

/** yoga's `renderGraphiQL`: the small page. */
export async function renderGraphiQL(options: GraphiQLOptions): Promise<string> {
  return graphiqlPage(await graphiqlAssets(), options);
}

/** Serves `/graphiql/*`: the files the page references. Register it only where GraphiQL is on. */
export function useGraphiQLAssets(logger: Logger): Plugin {
  return {
    onRequest({ request, url, fetchAPI, endResponse }) {
      if (!url.pathname.startsWith(`${GRAPHIQL_ASSETS_PATH}/`) || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      return graphiqlAssets()
        .then(async (assets) => {
          const asset = assets.at(url.pathname);
          endResponse(asset ? await assetResponse(asset, request, fetchAPI) : new fetchAPI.Response('Not found', { status: 404 }));
        })
        .catch((error: unknown) => {
          logger.error({ err: error, path: url.pathname }, 'GraphiQL assets unavailable');
          endResponse(new fetchAPI.Response('GraphiQL is unavailable on this server.', { status: 503 }));
        });
    },
  };
}
