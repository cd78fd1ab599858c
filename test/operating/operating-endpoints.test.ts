/**
 * How the operating pages are served: /dashboard and its assets from this gateway only (no CDN, a
 * same-origin content security policy), and the METRICS / DASHBOARD switches.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function get(url: string): Promise<{ status: number; type: string; csp: string; text: string }> {
  const response = await request(url);
  return {
    status: response.statusCode,
    type: String(response.headers['content-type'] ?? ''),
    csp: String(response.headers['content-security-policy'] ?? ''),
    text: await response.body.text(),
  };
}

describe('/dashboard', () => {
  it('serves the page, its script and its styles from the gateway itself, under a same-origin policy', async () => {
    gateway = await startTestGateway();
    const page = await get(`${gateway.url}/dashboard`);
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.csp).toContain("connect-src 'self'");
    expect(page.csp).toContain("script-src 'self'");
    // Every asset the page loads is a path on this gateway: it works with no internet.
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(['data:,', expect.stringMatching(/^\/dashboard\/app\.[0-9a-f]+\.css$/), expect.stringMatching(/^\/dashboard\/app\.[0-9a-f]+\.js$/)]);

    const script = await get(`${gateway.url}/dashboard/app.js`);
    expect(script).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(script.text).toContain('clusterEvents');
    expect(script.text).not.toMatch(/localStorage|sessionStorage|document\.cookie/);
    expect((await get(`${gateway.url}/dashboard/app.css`)).type).toBe('text/css; charset=utf-8');
    expect((await get(`${gateway.url}/dashboard/missing.js`)).status).toBe(404);
  });
});

describe('METRICS and DASHBOARD switches', () => {
  it('both on by default; off, the endpoints answer 404 while GraphQL still works', async () => {
    gateway = await startTestGateway({ env: { METRICS: 'false', DASHBOARD: 'off' } });
    expect((await get(`${gateway.url}/metrics`)).status).toBe(404);
    expect((await get(`${gateway.url}/dashboard`)).status).toBe(404);
    expect((await gateway.graphql('{ __typename }', {}, null)).data).toEqual({ __typename: 'Query' });
  });

  it('refuses a value that is not a yes or a no, naming the variable', () => {
    expect(loadConfig({}).operating).toEqual({ metrics: true, dashboard: true, readyUpstreamTimeoutMs: 2000 });
    expect(() => loadConfig({ METRICS: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS: 'maybe' })).toThrow(/METRICS: must be true or false/);
    expect(() => loadConfig({ READY_UPSTREAM_TIMEOUT_MS: '10' })).toThrow(/READY_UPSTREAM_TIMEOUT_MS/);
  });
});
