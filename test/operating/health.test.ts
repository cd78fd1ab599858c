/** `GET /health` (the process answers) and `GET /ready` (it can serve: GSMS reachable, and each dependency's check). */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type GatewayApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { closedPort } from '../support/ports.js';

let gateway: TestGateway | undefined;
let app: GatewayApp | undefined;
afterEach(async () => {
  await gateway?.close();
  await app?.stop();
  gateway = app = undefined;
});

async function get(url: string): Promise<{ status: number; body: any }> {
  const response = await request(url);
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
}

describe('health and readiness', () => {
  it('/health answers 200 and /ready lists the upstream check as passing', async () => {
    gateway = await startTestGateway();
    expect((await get(`${gateway.url}/health`)).status).toBe(200);
    const ready = await get(`${gateway.url}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, checks: { upstream: true } });
  });

  it('/ready answers 503 naming the upstream when GSMS cannot be reached, while /health stays 200', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    app = buildApp(config, `http://127.0.0.1:${await closedPort()}`, createLogger('silent'));
    const url = await app.start(0, '127.0.0.1');
    expect((await get(`${url}/health`)).status).toBe(200);
    const ready = await get(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ready: false, checks: { upstream: false } });
  });
});
