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

async function runTab(page: Page, name: string): Promise<void> {
  await page.locator('.graphiql-tab', { hasText: name }).locator('.graphiql-tab-button').click();
  await expect.poll(() => page.locator('.graphiql-tab-active').textContent()).toContain(name);
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
    await page.goto(`${gateway.url}/graphql`);
    await page.locator('.graphiql-tab', { hasText: 'RequestCluster' }).waitFor({ timeout: 20_000 });

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
