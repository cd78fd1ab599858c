/**
 * GraphiQL in a real Chromium: the page the gateway serves (bundled, no CDN) runs the example mutation
 * and the example subscription with the credential prefilled in its Headers editor, and the result pane
 * shows the session going from QUEUED to FULFILLED. The page is small, its assets come compressed and
 * cacheable, and a reload fetches none of them again.
 */
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionPath, startTestGateway, TITLE, type TestGateway } from '../support/gateway.js';
import { launchChromium, pageErrors, recordNetwork, saveScreenshot, type NetworkEntry } from './chromium.js';

const REQUEST = 'mutation ($sessionId: String!) { requestCluster(titleId: "1234567890", sessionId: $sessionId) }';

let browser: Browser;
let gateway: TestGateway;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

/**
 * Selects a tab and runs its operation. GraphiQL's tabs are draggable and slide while the page settles, so a
 * click at coordinates can land on a neighbour: the click is sent to the tab's own button.
 *
 * A tab switch fills the editor at once, but GraphiQL picks the operation name in a 100 ms debounced
 * handler; run before it and GraphiQL's fetcher refuses on its own ("Cannot infer operation RequestCluster"
 * on the FollowCluster tab, seen on a loaded machine). That handler first saves the editor text under
 * `graphiql:query` in localStorage, then sets the name: waiting for the saved text is waiting for the name.
 */
async function runTab(page: Page, name: string): Promise<void> {
  const tab = page.locator('.graphiql-tab').filter({ has: page.locator(`.graphiql-tab-button[title="${name}"]`) });
  if ((await tab.getAttribute('aria-selected')) !== 'true') {
    await tab.locator('.graphiql-tab-button').dispatchEvent('click');
    await expect.poll(() => tab.getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.evaluate(() => localStorage.getItem('graphiql:query') ?? ''), { timeout: 5_000 }).toContain(name);
  }
  await page.locator('.graphiql-execute-button').click();
}

const KB = 1024;
const MB = 1024 * 1024;
const wireBytes = (entries: NetworkEntry[]) => entries.reduce((sum, entry) => sum + entry.encodedBytes, 0);
const isAsset = (entry: NetworkEntry) => new URL(entry.url).pathname.startsWith('/graphiql/');

/** The result pane's text (Monaco draws it as lines of spans). */
function resultText(page: Page): Promise<string> {
  return page.locator('.graphiql-response').innerText();
}

describe('GraphiQL in Chromium', () => {
  it('runs the example requestCluster and follows it with clusterStatus until FULFILLED', async () => {
    // One server per title, taken by another session: the example session queues.
    gateway = await startTestGateway({ emulator: { capacity: 1, pollIntervalMs: 100 } });
    expect((await gateway.graphql(REQUEST, { sessionId: sessionPath('holder') })).data).toEqual({ requestCluster: 'FULFILLED' });

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = pageErrors(page);
    const network = await recordNetwork(page);
    const schemaLoaded = page.waitForResponse((response) => response.request().postData()?.includes('IntrospectionQuery') === true, { timeout: 20_000 });
    await page.goto(`${gateway.url}/graphql`, { timeout: 30_000 });
    await schemaLoaded;
    await page.locator('.graphiql-tab-button[title="RequestCluster"]').waitFor({ timeout: 20_000 });

    // First load: a small page, then compressed, immutable assets; under 3 MB on the wire in all.
    const firstLoad = network.take();
    const html = firstLoad.find((entry) => new URL(entry.url).pathname === '/graphql' && entry.headers['content-type']?.startsWith('text/html'));
    expect(html?.encodedBytes).toBeLessThan(200 * KB);
    const script = firstLoad.find((entry) => /\/graphiql\/graphiql\.[0-9a-f]+\.js$/.test(entry.url));
    expect(script?.headers).toMatchObject({ 'content-encoding': 'br', 'cache-control': 'public, max-age=31536000, immutable' });
    expect(firstLoad.filter(isAsset).map((entry) => entry.headers['content-encoding'])).not.toContain(undefined);
    expect(wireBytes(firstLoad)).toBeLessThan(3 * MB);
    console.log(`GraphiQL first load: ${firstLoad.length} responses, ${wireBytes(firstLoad)} bytes on the wire (page ${html?.encodedBytes})`);

    await runTab(page, 'RequestCluster');
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('QUEUED');

    await runTab(page, 'FollowCluster');
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('QUEUED');
    // While queued, the tab shows where the session stands.
    expect(await resultText(page)).toContain('queuePosition');
    gateway.emulator.releaseClusters(TITLE);
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('FULFILLED');
    expect(await resultText(page)).toContain('hostName');

    await saveScreenshot(page, 'graphiql-follow-cluster');

    // A reload takes the assets from the browser's cache (or a 304): the bundle is not fetched again.
    const reloaded = page.waitForResponse((response) => response.request().postData()?.includes('IntrospectionQuery') === true, { timeout: 20_000 });
    await page.reload();
    await reloaded;
    await page.locator('.graphiql-tab-button[title="RequestCluster"]').waitFor({ timeout: 20_000 });
    const reload = network.take();
    const assets = reload.filter(isAsset);
    expect(assets.map((entry) => new URL(entry.url).pathname)).toContain(new URL(script!.url).pathname);
    for (const entry of assets) expect(entry.fromCache || entry.status === 304, `${JSON.stringify(entry)} fetched again`).toBe(true);
    expect(wireBytes(assets)).toBeLessThan(10 * KB);
    console.log(`GraphiQL reload: ${reload.length} responses, ${wireBytes(reload)} bytes on the wire`);

    expect(errors.filter((e) => !/favicon/.test(e))).toEqual([]);
  }, 120_000);

  it('everything the page references, Monaco\'s workers included, is under 3 MB on the wire and revalidates with 304', async () => {
    gateway ??= await startTestGateway();
    const page = await request(`${gateway.url}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'gzip, br' } });
    const html = await page.body.text();
    expect(html.length).toBeLessThan(200 * KB);
    const assetPaths = [...new Set(html.match(/\/graphiql\/[\w.-]+/g))];
    // The script, the styles, the icon and Monaco's three workers.
    expect(assetPaths).toHaveLength(6);
    let wire = Buffer.byteLength(html);
    for (const path of assetPaths) {
      const first = await request(`${gateway.url}${path}`, { headers: { 'accept-encoding': 'gzip, br' } });
      wire += (await first.body.arrayBuffer()).byteLength;
      expect(first.statusCode).toBe(200);
      expect(first.headers['content-encoding']).toBe('br');
      expect(first.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const again = await request(`${gateway.url}${path}`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': String(first.headers.etag) } });
      await again.body.dump();
      expect(again.statusCode).toBe(304);
    }
    expect(wire).toBeLessThan(3 * MB);
    console.log(`GraphiQL page ${Buffer.byteLength(html)} bytes; page and its ${assetPaths.length} assets: ${wire} bytes on the wire (br)`);

    // A client that accepts no compression still gets the files.
    const plain = await request(`${gateway.url}${assetPaths.find((path) => path.endsWith('.css'))}`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect((await plain.body.text()).length).toBeGreaterThan(100 * KB);
  }, 60_000);

  it('GRAPHIQL=false serves neither the page nor its assets', async () => {
    gateway ??= await startTestGateway();
    const html = await (await request(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } })).body.text();
    const script = /src="(\/graphiql\/graphiql\.[0-9a-f]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const closed = await startTestGateway({ env: { GRAPHIQL: 'false' } });
    try {
      const asset = await request(`${closed.url}${script}`);
      await asset.body.dump();
      expect(asset.statusCode).toBe(404);
    } finally {
      await closed.close();
    }
  });
});
