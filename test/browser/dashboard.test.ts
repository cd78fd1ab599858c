/**
 * The operators' dashboard in a real Chromium: sessions requested through the API appear and go
 * QUEUED → FULFILLED live (over the clusterEvents subscription), the counts follow, and the page
 * reconnects by itself after the gateway restarts.
 */
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type GatewayApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { AUTH, sessionPath, startTestGateway, TITLE, type TestGateway } from '../support/gateway.js';
import { launchChromium, pageErrors, recordNetwork, saveScreenshot } from './chromium.js';

const REQUEST = 'mutation ($sessionId: String!) { requestCluster(titleId: "1234567890", sessionId: $sessionId) }';
/** The operator's key, typed into the page; the gateway knows only its SHA-256. */
const OPERATOR_KEY = 'dashboard-operator-key';
const OPERATOR_ENV = { LOG_LEVEL: 'silent', GATEWAY_OPERATOR_KEY_HASHES: createHash('sha256').update(OPERATOR_KEY).digest('hex') };

let browser: Browser;
let gateway: TestGateway | undefined;
/** The gateway started in place of `gateway.app` after its restart; the emulator stays the same. */
let restarted: GatewayApp | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  if (restarted) {
    await restarted.stop();
    await gateway?.emulator.close();
  } else {
    await gateway?.close();
  }
});

/** What the page shows: each row's session name and state, and the three counts. */
async function shown(page: Page): Promise<{ rows: string[]; counts: string }> {
  return page.evaluate(() => ({
    rows: [...document.querySelectorAll<HTMLElement>('#sessions tr[data-state]')].map((tr) => `${tr.dataset.sessionId!.split('/').at(-1)} ${tr.dataset.state}`),
    counts: ['QUEUED', 'FULFILLED', 'ABORTED'].map((s) => `${s}=${document.querySelector(`[data-count="${s}"]`)!.textContent}`).join(' '),
  }));
}

async function openDashboard(url: string, credential = OPERATOR_KEY, expectedStatus = 'live'): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 620 } });
  const errors = pageErrors(page);
  await page.goto(`${url}/dashboard`);
  await page.fill('#credential', credential);
  await page.click('#connect button[type=submit]');
  await page.locator(`#status[data-status="${expectedStatus}"]`).waitFor({ timeout: 10_000 });
  return { page, errors };
}

describe('the dashboard in Chromium', () => {
  it('shows three sessions go from QUEUED to FULFILLED live, with the counts, and survives a gateway restart', async () => {
    // One server per title: the first session is served, the next two queue behind it.
    gateway = await startTestGateway({ emulator: { capacity: 1, pollIntervalMs: 200 }, env: OPERATOR_ENV });
    const { page, errors } = await openDashboard(gateway.url);
    expect(await shown(page)).toEqual({ rows: [], counts: 'QUEUED=0 FULFILLED=0 ABORTED=0' });
    // The credential is not left in the page.
    expect(await page.inputValue('#credential')).toBe('');

    // A player requests them; the operator sees everyone's sessions.
    for (const name of ['lobby-a', 'lobby-b', 'lobby-c']) await gateway.graphql(REQUEST, { sessionId: sessionPath(name) }, AUTH);
    await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual({
      rows: ['lobby-a FULFILLED', 'lobby-b QUEUED', 'lobby-c QUEUED'],
      counts: 'QUEUED=2 FULFILLED=1 ABORTED=0',
    });
    // Where each queued session stands: lobby-b is next, lobby-c behind it.
    const standings = () => page.locator('#sessions tr[data-state="QUEUED"] td.standing').allInnerTexts();
    await expect.poll(standings, { timeout: 10_000 }).toEqual([expect.stringMatching(/^#1 · /), expect.stringMatching(/^#2 · /)]);
    await saveScreenshot(page, 'dashboard-queued');

    gateway.emulator.releaseClusters(TITLE);
    await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual({
      rows: ['lobby-a FULFILLED', 'lobby-b FULFILLED', 'lobby-c QUEUED'],
      counts: 'QUEUED=1 FULFILLED=2 ABORTED=0',
    });
    await expect.poll(standings, { timeout: 10_000 }).toEqual([expect.stringMatching(/^#1 · /)]);
    gateway.emulator.releaseClusters(TITLE);
    await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual({
      rows: ['lobby-a FULFILLED', 'lobby-b FULFILLED', 'lobby-c FULFILLED'],
      counts: 'QUEUED=0 FULFILLED=3 ABORTED=0',
    });
    await expect.poll(() => page.locator('#sessions tr[data-state="FULFILLED"] td:nth-child(6)').first().innerText()).toMatch(/\(.+\)/);
    await saveScreenshot(page, 'dashboard-fulfilled');

    // Restart: a new gateway process on the same port (memory registry: it starts empty).
    const port = Number(new URL(gateway.url).port);
    await gateway.app.stop();
    restarted = buildApp(loadConfig(OPERATOR_ENV), gateway.emulator.url, createLogger('silent'));
    await expect.poll(() => page.locator('#status').getAttribute('data-status'), { timeout: 10_000 }).not.toBe('live');
    await restarted.start(port, '127.0.0.1');
    await page.locator('#status[data-status="live"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual({ rows: [], counts: 'QUEUED=0 FULFILLED=0 ABORTED=0' });
    await gateway.graphql(REQUEST, { sessionId: sessionPath('after-restart') });
    await expect.poll(() => shown(page), { timeout: 10_000 }).toMatchObject({ rows: [expect.stringMatching(/^after-restart (QUEUED|FULFILLED)$/)] });

    // Failed fetches while the gateway was down are expected; nothing else may have gone wrong.
    expect(errors.filter((e) => !/Failed to fetch|ERR_CONNECTION_REFUSED|network|Failed to load resource/i.test(e))).toEqual([]);
  });

  it('says so when the credential is refused, and stops trying', async () => {
    const own = await startTestGateway({ env: OPERATOR_ENV });
    try {
      const { page } = await openDashboard(own.url, 'not-an-operator-key', 'refused');
      expect(await page.locator('#status').innerText()).toMatch(/credential refused/);
      await page.close();
    } finally {
      await own.close();
    }
  });

  it('loads its script and styles compressed under hashed names, and a reload takes them from the cache', async () => {
    const own = await startTestGateway({ env: OPERATOR_ENV });
    try {
      const page = await browser.newPage();
      const network = await recordNetwork(page);
      await page.goto(`${own.url}/dashboard`);
      await page.locator('#connect button[type=submit]').waitFor();
      const first = network.take();
      const script = first.find((entry) => /\/dashboard\/app\.[0-9a-f]+\.js$/.test(entry.url));
      const styles = first.find((entry) => /\/dashboard\/app\.[0-9a-f]+\.css$/.test(entry.url));
      for (const asset of [script, styles]) {
        expect(asset?.headers).toMatchObject({ 'content-encoding': 'br', 'cache-control': 'public, max-age=31536000, immutable' });
      }
      const html = first.find((entry) => new URL(entry.url).pathname === '/dashboard');
      expect(html?.headers).toMatchObject({ 'content-encoding': 'br', 'cache-control': 'no-cache', etag: expect.any(String) });

      await page.reload();
      await page.locator('#connect button[type=submit]').waitFor();
      const reload = network.take();
      const again = reload.filter((entry) => entry.url === script!.url || entry.url === styles!.url);
      expect(again).toHaveLength(2);
      for (const entry of again) expect(entry.fromCache || entry.status === 304, `${entry.url} fetched again`).toBe(true);
      // The page itself is revalidated: unchanged, it comes back as a 304 with no body (Chromium reports the
      // cached 200 it revalidated, so the proof is the wire: headers only, where the first load had the page).
      const pageAgain = reload.find((entry) => new URL(entry.url).pathname === '/dashboard');
      expect(pageAgain?.encodedBytes).toBeLessThan(html!.encodedBytes);
      expect(pageAgain?.encodedBytes).toBeLessThan(1024);
      console.log(`dashboard first load ${first.reduce((sum, e) => sum + e.encodedBytes, 0)} bytes on the wire, reload ${reload.reduce((sum, e) => sum + e.encodedBytes, 0)}`);
      await page.close();
    } finally {
      await own.close();
    }
  });
});
