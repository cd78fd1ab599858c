/**
 * GraphiQL in a real Chromium: the page the gateway serves (bundled, no CDN) runs the example mutation
 * and the example subscription with the credential prefilled in its Headers editor, and the result pane
 * shows the session going from QUEUED to FULFILLED.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionPath, startTestGateway, TITLE, type TestGateway } from '../support/gateway.js';
import { launchChromium, pageErrors, saveScreenshot } from './chromium.js';

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
    const schemaLoaded = page.waitForResponse((response) => response.request().postData()?.includes('IntrospectionQuery') === true, { timeout: 20_000 });
    await page.goto(`${gateway.url}/graphql`);
    await schemaLoaded;
    await page.locator('.graphiql-tab-button[title="RequestCluster"]').waitFor({ timeout: 20_000 });

    await runTab(page, 'RequestCluster');
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('QUEUED');

    await runTab(page, 'FollowCluster');
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('QUEUED');
    gateway.emulator.releaseClusters(TITLE);
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('FULFILLED');
    expect(await resultText(page)).toContain('hostName');

    await saveScreenshot(page, 'graphiql-follow-cluster');
    expect(errors.filter((e) => !/favicon/.test(e))).toEqual([]);
  });
});
