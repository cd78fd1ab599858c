/**
 * Operator keys are secrets like tokens: a full run at the most verbose log level, with valid and wrong
 * keys over HTTP and graphql-ws, never logs one; and a header object logged by mistake shows `[redacted]`.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/gsms/emulator/server.js';
import { createLogger } from '../../src/server/logger.js';
import { startProofGateway } from '../proof/proof-gateway.js';
import { AUTH, TITLE, collectWs, sessionPath } from '../support/gateway.js';
import { OPERATOR_KEY, post, sha256Hex } from './http.js';

const WRONG_KEY = 'wrong-operator-key-7d1e';

function captureLogs() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { stream, lines };
}

describe('operator keys never reach the logs', () => {
  it('a run with valid and wrong keys over HTTP and graphql-ws at trace level logs neither', async () => {
    const logs = captureLogs();
    const emulator = await startEmulator({ pollIntervalMs: 100 });
    const gw = await startProofGateway(emulator.url, { env: { GATEWAY_OPERATOR_KEY_HASHES: sha256Hex(OPERATOR_KEY) }, logLevel: 'trace', logTo: logs.stream });
    try {
      const sessionId = sessionPath('key-logs');
      await gw.graphql('mutation($t: ID!, $s: String!) { requestCluster(titleId: $t, sessionId: $s) }', { t: TITLE, s: sessionId }, AUTH);
      for (const key of [OPERATOR_KEY, WRONG_KEY]) {
        await post(gw.url, '{ clusters { sessionId } }', {}, { 'x-api-key': key });
        await post(gw.url, 'mutation($t: ID!, $s: String!) { requestCluster(titleId: $t, sessionId: $s) }', { t: TITLE, s: sessionId }, { 'x-api-key': key });
        await collectWs(gw.wsClient({ 'x-api-key': key }), 'subscription($s: String!) { clusterStatus(sessionId: $s) { state } }', { s: sessionId });
      }
    } finally {
      await gw.close();
      await emulator.close();
    }
    expect(logs.lines.length).toBeGreaterThan(0);
    const leaked = logs.lines.filter((line) => line.includes(OPERATOR_KEY) || line.includes(WRONG_KEY));
    expect(leaked).toEqual([]);
  });

  it('a header object logged by mistake shows the key redacted', () => {
    const logs = captureLogs();
    createLogger('info', logs.stream).info({ headers: { 'x-api-key': OPERATOR_KEY }, req: { headers: { 'x-api-key': OPERATOR_KEY } } }, 'oops');
    expect(logs.lines.join('\n')).not.toContain(OPERATOR_KEY);
    expect(logs.lines.join('\n')).toContain('[redacted]');
  });
});
