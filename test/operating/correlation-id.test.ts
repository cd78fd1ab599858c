/**
 * Tracing a call to GSMS: every log line about an upstream call carries its `X-XblCorrelationId`, and a
 * GraphQL error caused by GSMS exposes it in `extensions.correlationId`, so an operator can go from a
 * player's error to the log lines and to Xbox Live support with one id.
 */
import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { buildApp, type GatewayApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { AUTH, sessionPath } from '../support/gateway.js';

const REQUEST = 'mutation ($sessionId: String!) { requestCluster(titleId: "1234567890", sessionId: $sessionId) }';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let emulator: RunningEmulator | undefined;
let app: GatewayApp | undefined;
afterEach(async () => {
  await app?.stop();
  await emulator?.close();
  app = emulator = undefined;
});

/** A gateway at debug level whose log lines are collected as parsed JSON. */
async function loggedGateway(env: Record<string, string> = {}): Promise<{ url: string; lines: Record<string, unknown>[]; raw: string[]; emulator: RunningEmulator }> {
  emulator = await startEmulator({ pollIntervalMs: 100 });
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  app = buildApp(loadConfig({ LOG_LEVEL: 'debug', ...env }), emulator.url, createLogger('debug', sink));
  const url = await app.start(0, '127.0.0.1');
  return { url, raw, emulator, get lines() { return raw.map((line) => JSON.parse(line) as Record<string, unknown>); } };
}

async function requestCluster(url: string, name: string): Promise<{ data?: unknown; errors?: { extensions: Record<string, unknown> }[] }> {
  const response = await request(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTH },
    body: JSON.stringify({ query: REQUEST, variables: { sessionId: sessionPath(name) } }),
  });
  return (await response.body.json()) as never;
}

describe('X-XblCorrelationId in logs and errors', () => {
  it('is on every log line of an upstream call, the failed attempt and its retry included', async () => {
    const gw = await loggedGateway();
    gw.emulator.injectFaults([503]);
    expect((await requestCluster(gw.url, 'traced-1')).data).toEqual({ requestCluster: 'FULFILLED' });

    const upstream = gw.lines.filter((line) => line.component === 'gsms-client');
    expect(upstream.map((line) => line.msg)).toEqual(['GSMS attempt', 'GSMS attempt failed; retrying', 'GSMS attempt', 'GSMS answered']);
    for (const line of upstream) expect(line.correlationId, JSON.stringify(line)).toMatch(UUID);
    // The retry names the failed attempt's id; the answer names the successful one's.
    expect(upstream[1]!.correlationId).toBe(upstream[0]!.correlationId);
    expect(upstream[3]!.correlationId).toBe(upstream[2]!.correlationId);
    expect(upstream[0]!.correlationId).not.toBe(upstream[2]!.correlationId);
    const requested = gw.lines.find((line) => line.msg === 'cluster requested');
    expect(requested?.correlationId).toBe(upstream[3]!.correlationId);
    // The token is never written.
    expect(gw.raw.join('\n')).not.toContain('token-one-secret');
  });

  it('is in extensions.correlationId of an upstream error, and in the log line that reports it', async () => {
    const gw = await loggedGateway({ GSMS_RETRY_MAX_ATTEMPTS: '2' });
    gw.emulator.injectFaults([503, 503]);
    const result = await requestCluster(gw.url, 'traced-2');
    const extensions = result.errors?.[0]?.extensions;
    expect(extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstreamStatus: 503 });
    expect(extensions?.correlationId).toMatch(UUID);
    const failed = gw.lines.find((line) => line.msg === 'GSMS call failed');
    expect(failed?.correlationId).toBe(extensions?.correlationId);
  });
});
