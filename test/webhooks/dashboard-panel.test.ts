/**
 * The dashboard's webhook panel in a real Chromium: an endpoint whose receiver fails shows as failing with
 * its reason; a healthy one does not; a player sees no panel.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageErrors, saveScreenshot } from '../browser/chromium.js';
import { AUTH, sessionPath, startTestGateway, TITLE, type TestGateway } from '../support/gateway.js';
import { CREATE_ENDPOINT, graphqlWith, OPERATOR_KEY, OPERATOR_KEY_HASHES, REQUEST_CLUSTER, startReceiver, type TestReceiver } from './receiver.js';

const operator = { 'x-api-key': OPERATOR_KEY };

let browser: Browser;
let gw: TestGateway;
let healthy: TestReceiver;
let gone: TestReceiver;
let failing: TestReceiver;

beforeAll(async () => {
  browser = await launchChromium();
  gw = await startTestGateway({
    emulator: { capacity: 0, pollIntervalMs: 100 },
    env: { GATEWAY_OPERATOR_KEY_HASHES: OPERATOR_KEY_HASHES, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_RETRY_SCHEDULE: '1h' },
  });
  [healthy, gone, failing] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
  gone.script = [410];
  failing.script = [500];
  for (const receiver of [healthy, gone, failing]) {
    const created = await graphqlWith<{ createWebhookEndpoint: { secret: string } }>(gw.url, CREATE_ENDPOINT, { url: receiver.url }, operator);
    receiver.secret = created.data!.createWebhookEndpoint.secret;
  }
  await gw.graphql(REQUEST_CLUSTER, { titleId: TITLE, sessionId: sessionPath('panel-1') });
  await Promise.all([healthy, gone, failing].map((receiver) => receiver.waitForCalls(1)));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await Promise.all([healthy, gone, failing].map((receiver) => receiver?.close()));
});

async function connect(credential: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors = pageErrors(page);
  await page.goto(`${gw.url}/dashboard`);
  await page.fill('#credential', credential);
  await page.click('#connect button[type=submit]');
  await page.locator('#status[data-status="live"]').waitFor({ timeout: 10_000 });
  return { page, errors };
}

describe('the webhook panel', () => {
  it('lists the failing endpoints for an operator: disabled by 410, and retrying after a 500', async () => {
    const { page, errors } = await connect(OPERATOR_KEY);
    await page.locator('#webhooks:not([hidden])').waitFor({ timeout: 10_000 });
    await page.locator('#failing-webhooks tbody tr').nth(1).waitFor({ timeout: 10_000 });
    const rows = await page.evaluate(() =>
      [...document.querySelectorAll('#failing-webhooks tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(rows).toHaveLength(2);
    expect(rows).toContainEqual([gone.url, 'disabled: the receiver answered 410 Gone']);
    expect(rows.find((row) => row[0] === failing.url)?.[1]).toMatch(/^retrying after 1 attempt \(HTTP 500\), next try /);
    expect(await page.textContent('#webhook-summary')).toBe('2 of 3 webhook endpoints failing.');
    await saveScreenshot(page, 'dashboard-webhooks');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('is hidden for a player', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const errors = pageErrors(page);
    await page.goto(`${gw.url}/dashboard`);
    await page.fill('#credential', AUTH);
    // The panel's first refresh is answered FORBIDDEN; wait for that answer, then look.
    const answered = page.waitForResponse((response) => (response.request().postData() ?? '').includes('webhookEndpoints'), { timeout: 10_000 });
    await page.click('#connect button[type=submit]');
    const body = (await (await answered).json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await page.locator('#status[data-status="live"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#webhooks').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
