/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). A missing Chromium fails the
 * test with the way to install it, rather than skipping: these tests are how we know the pages work.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium, as .ci/run does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Saves a full-page screenshot under test-artifacts/ (git-ignored) and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = new URL(`${name}.png`, ARTIFACTS).pathname;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Collects what the page logs as errors, so a test can show them when it fails. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}

/** One response as Chromium's network stack saw it (DevTools protocol). */
export interface NetworkEntry {
  url: string;
  status: number;
  headers: Record<string, string>;
  /** Bytes on the wire, headers included (0 when served from the browser's cache). */
  encodedBytes: number;
  fromCache: boolean;
}

/**
 * Records every response the page's loads get, with wire size and whether the browser's cache answered:
 * what a user on a slow link pays for a load and a reload. `take()` returns the entries so far and starts anew.
 */
export async function recordNetwork(page: Page): Promise<{ take(): NetworkEntry[] }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const pending = new Map<string, NetworkEntry>();
  // Chromium says "served from cache" before it reports the response.
  const servedFromCache = new Set<string>();
  let done: NetworkEntry[] = [];
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    if (!response.url.startsWith('http')) return; // data: URLs (GraphiQL's fonts) cost nothing on the wire
    const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    pending.set(requestId, {
      url: response.url,
      status: response.status,
      headers,
      encodedBytes: 0,
      fromCache: Boolean(response.fromDiskCache || response.fromPrefetchCache) || servedFromCache.delete(requestId),
    });
  });
  cdp.on('Network.requestServedFromCache', ({ requestId }) => servedFromCache.add(requestId));
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const entry = pending.get(requestId);
    if (!entry) return;
    pending.delete(requestId);
    entry.encodedBytes = encodedDataLength;
    done.push(entry);
  });
  return {
    take() {
      const taken = done;
      done = [];
      return taken;
    },
  };
}
