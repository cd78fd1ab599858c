/**
 * Secrets never reach a log line. Two full runs at LOG_LEVEL=trace, every line captured and grepped for
 * every secret used (players' tokens, the default credential, an operator key, tokens inside malformed
 * credentials):
 * - `npm start`'s entry point as a child process with the embedded emulator (queued sessions, polling,
 *   subscriptions over graphql-ws and SSE, injected faults and retries, a denied title, bad input, bad
 *   credentials, a wrong operator key, shutdown);
 * - an in-process gateway in front of the broken upstream (401, resets, timeouts, unreadable answers),
 *   its pino logger writing to a captured stream;
 * - a gateway scaled out on Redis: its logs, every command it sent Redis (MONITOR), every message on its
 *   channels and every value it left under its key prefix.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createClient } from 'graphql-ws';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { startEmulator } from '../../src/gsms/emulator/server.js';
import { startBrokenUpstream } from '../support/broken-upstream.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../support/redis.js';
import { collectSse, collectWs, sessionPath } from '../support/gateway.js';
import { startProofGateway } from './proof-gateway.js';

const PLAYER_TOKEN = 'grep-secret-player-token-a1b2';
const OTHER_TOKEN = 'grep-secret-other-token-c3d4';
const DEFAULT_TOKEN = 'grep-secret-default-token-e5f6';
const MALFORMED_TOKEN = 'grep-secret-malformed-token-g7h8';
const OPERATOR_KEY = 'grep-secret-operator-key-i9j0';
const WRONG_OPERATOR_KEY = 'grep-secret-wrong-key-k1l2';
const SECRETS = [PLAYER_TOKEN, OTHER_TOKEN, DEFAULT_TOKEN, MALFORMED_TOKEN, OPERATOR_KEY, WRONG_OPERATOR_KEY];

const PLAYER = `XBL3.0 x=grep-player;${PLAYER_TOKEN}`;
const OTHER = `XBL3.0 x=grep-other;${OTHER_TOKEN}`;
const MALFORMED = [`XBL3.0 x=;${MALFORMED_TOKEN}`, `Bearer ${MALFORMED_TOKEN}`, `XBL3.0 ${MALFORMED_TOKEN}`];

const REQUEST = 'mutation ($t: ID!, $s: String!) { requestCluster(titleId: $t, sessionId: $s) }';
const FOLLOW = 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0).reverse()) await dispose();
});

function post(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  return request(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  }).then((r) => r.body.text());
}

/** Every secret found in the text, with the line it was on. */
function leaks(text: string): string[] {
  return text.split('\n').flatMap((line) => SECRETS.filter((secret) => line.includes(secret)).map((secret) => `${secret} in: ${line.slice(0, 400)}`));
}

describe('no secret in any log line', () => {
  it('a full `npm start` run at LOG_LEVEL=trace: requests, polling, subscriptions, faults, bad credentials, shutdown', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
      env: {
        ...process.env,
        PORT: '0',
        LOG_LEVEL: 'trace',
        GSMS_AUTHORIZATION: `XBL3.0 x=grep-default;${DEFAULT_TOKEN}`,
        GATEWAY_OPERATOR_KEY_HASHES: createHash('sha256').update(OPERATOR_KEY).digest('hex'),
        GSMS_EMULATOR_CAPACITY: '1',
        GSMS_EMULATOR_CLUSTER_LIFETIME_MS: '500',
        GSMS_EMULATOR_POLL_INTERVAL_MS: '100',
        GSMS_EMULATOR_FAULT_RATE: '0.3',
        GSMS_EMULATOR_DENIED_TITLES: '666',
        REDIS_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit');
    cleanup.push(async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 30_000);
      const look = () => {
        const match = /"graphql":"(http:\/\/[^"]+)\/graphql"/.exec(output);
        if (match) {
          clearTimeout(timer);
          child.stdout.off('data', look);
          resolve(match[1]!);
        }
      };
      child.stdout.on('data', look);
      child.once('exit', () => reject(new Error(`gateway exited:\n${output}`)));
    });

    // Requests: the first fulfils, the others queue and are polled (through 30% faults) until lifetimes free capacity.
    const sessions = [0, 1, 2].map((i) => sessionPath(`grep-${i}`));
    for (const s of sessions) await post(url, REQUEST, { t: '1234', s }, { authorization: PLAYER });
    await post(url, REQUEST, { t: '1234', s: sessions[2] }, { authorization: OTHER });
    // The default credential is used when a request brings none.
    await post(url, REQUEST, { t: '1234', s: sessionPath('grep-default') }, {});
    // Subscriptions: graphql-ws (connectionParams and the subscribe message's extensions.headers) and SSE.
    const client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: PLAYER } });
    const viaWs = collectWs(client, FOLLOW, { s: sessions[1] });
    const headerClient = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const viaExtensions = new Promise<void>((resolve) => {
      headerClient.subscribe(
        { query: FOLLOW, variables: { s: sessions[2] }, extensions: { headers: { Authorization: OTHER } } },
        { next: () => {}, error: () => resolve(), complete: () => resolve() },
      );
    });
    const viaSse = collectSse(url, FOLLOW, { s: sessions[2] }, PLAYER);
    // Errors: a denied title, bad input, unknown session, bad credentials, operator keys right and wrong.
    await post(url, REQUEST, { t: '666', s: sessionPath('grep-denied') }, { authorization: PLAYER });
    await post(url, REQUEST, { t: 'not-a-title', s: 'nope' }, { authorization: PLAYER });
    await post(url, 'query ($s: String!) { cluster(sessionId: $s) { state } }', { s: sessionPath('never') }, { authorization: OTHER });
    for (const authorization of MALFORMED) await post(url, REQUEST, { t: '1234', s: sessions[0] }, { authorization });
    await post(url, '{ clusters { sessionId state } }', {}, { 'x-api-key': OPERATOR_KEY });
    await post(url, '{ clusters { sessionId state } }', {}, { 'x-api-key': WRONG_OPERATOR_KEY });
    await request(`${url}/graphql?query=%7B`, { headers: { authorization: PLAYER } }).then((r) => r.body.text());
    const badSocket = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: MALFORMED[0] } });
    await collectWs(badSocket, FOLLOW, { s: sessions[0] });

    await Promise.all([viaWs, viaExtensions, viaSse]);
    await Promise.all([client.dispose(), headerClient.dispose(), badSocket.dispose()]);
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);

    // The run really was at trace level and went through polling, retries and errors.
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(30);
    expect(output).toContain('GSMS attempt');
    expect(output).toContain('shutting down');
    expect(leaks(output)).toEqual([]);
  });

  it('a gateway in front of a broken upstream, logging at trace to a captured stream', async () => {
    const upstream = await startBrokenUpstream();
    cleanup.push(() => upstream.close());
    const stream = new PassThrough();
    let output = '';
    stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const gateway = await startProofGateway(upstream.url, {
      logLevel: 'trace',
      logTo: stream,
      env: { GSMS_REQUEST_TIMEOUT_MS: '200', GSMS_RETRY_MAX_TOTAL_MS: '800', GSMS_AUTHORIZATION: `XBL3.0 x=grep-default;${DEFAULT_TOKEN}` },
    });
    cleanup.push(() => gateway.close());

    const behaviours = [{ status: 401 }, { status: 403 }, { status: 503 }, 'reset', 'slow', 'truncated', 'non-json', 'unknown-state', 'empty-200'] as const;
    for (const [i, behaviour] of behaviours.entries()) {
      upstream.setTitle(String(700 + i), behaviour);
      await gateway.graphql(REQUEST, { t: String(700 + i), s: sessionPath(`grep-broken-${i}`) }, i % 2 === 0 ? PLAYER : OTHER);
    }
    // A queued session whose poller meets bad answers before it settles.
    upstream.setTitle('799', 'queued');
    await gateway.graphql(REQUEST, { t: '799', s: sessionPath('grep-polled') }, PLAYER);
    const follow = collectWs(gateway.wsClient({ authorization: PLAYER }), FOLLOW, { s: sessionPath('grep-polled') });
    upstream.setTitle('799', { status: 401 });
    await upstream.waitForRequest((r) => r.titleId === '799' && typeof r.behaviour === 'object', { since: Date.now() });
    upstream.setTitle('799', 'non-json');
    await upstream.waitForRequest((r) => r.titleId === '799' && r.behaviour === 'non-json', { since: Date.now() });
    upstream.setTitle('799', 'fulfilled');
    await follow;
    for (const authorization of MALFORMED) await gateway.graphql(REQUEST, { t: '1', s: sessionPath('x') }, authorization);
    await gateway.close();

    expect(output).toContain('GSMS call failed');
    expect(output).toContain('poll failed');
    expect(leaks(output)).toEqual([]);
  });

  it('scaled out on Redis: no secret in the logs, in any command sent to Redis, on its channels or in its keys', { timeout: 60_000 }, async () => {
    const redis = await sharedRedis();
    cleanup.push(() => redis.dispose());
    const prefix = uniquePrefix('token-grep');
    cleanup.push(() => deleteKeys(redis.url, prefix));
    // Every command Redis receives while the gateway runs, and every message on the gateway's channels.
    let seenByRedis = '';
    const monitorClient = new Redis(redis.url);
    const monitor = await monitorClient.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => (seenByRedis += `${args.join(' ')}\n`));
    const listener = new Redis(redis.url);
    await listener.psubscribe(`${prefix}*`);
    listener.on('pmessage', (_pattern: string, channel: string, message: string) => (seenByRedis += `${channel} ${message}\n`));
    cleanup.push(async () => {
      monitor.disconnect();
      monitorClient.disconnect();
      listener.disconnect();
    });

    const emulator = await startEmulator({ capacity: 1, pollIntervalMs: 100 });
    cleanup.push(() => emulator.close());
    const stream = new PassThrough();
    let output = '';
    stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const gateway = await startProofGateway(emulator.url, {
      logLevel: 'trace',
      logTo: stream,
      env: {
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex'),
        GATEWAY_OPERATOR_KEY_HASHES: createHash('sha256').update(OPERATOR_KEY).digest('hex'),
      },
    });
    cleanup.push(() => gateway.close());

    await gateway.graphql(REQUEST, { t: '1234', s: sessionPath('redis-held') }, PLAYER);
    await gateway.graphql(REQUEST, { t: '1234', s: sessionPath('redis-queued') }, PLAYER);
    await gateway.graphql(REQUEST, { t: '1234', s: sessionPath('redis-queued') }, OTHER);
    const follow = collectWs(gateway.wsClient({ authorization: OTHER }), FOLLOW, { s: sessionPath('redis-queued') });
    await emulator.waitForRequest((r) => r.sessionKey === sessionPath('redis-queued') && r.state === 'QUEUED');
    emulator.releaseClusters();
    await follow;
    await post(gateway.url, '{ clusters { sessionId state } }', {}, { 'x-api-key': OPERATOR_KEY });
    await post(gateway.url, '{ clusters { sessionId state } }', {}, { 'x-api-key': WRONG_OPERATOR_KEY });
    for (const authorization of MALFORMED) await gateway.graphql(REQUEST, { t: '1234', s: sessionPath('redis-x') }, authorization);

    // What the gateway left in Redis, whatever the type of each key.
    const reader = new Redis(redis.url);
    cleanup.push(async () => reader.disconnect());
    let stored = '';
    let keys = 0;
    for (let cursor = '0'; ; ) {
      const [next, batch] = await reader.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      for (const key of batch) {
        keys += 1;
        const type = await reader.type(key);
        const value =
          type === 'string' ? await reader.get(key)
          : type === 'hash' ? JSON.stringify(await reader.hgetall(key))
          : type === 'zset' ? (await reader.zrange(key, 0, -1)).join(' ')
          : type === 'set' ? (await reader.smembers(key)).join(' ')
          : type === 'list' ? (await reader.lrange(key, 0, -1)).join(' ')
          : type;
        stored += `${key} ${value}\n`;
      }
      cursor = next;
      if (cursor === '0') break;
    }
    await gateway.close();

    // The records (with their requesters' user hashes) are there to be read: only the tokens are not.
    expect(keys).toBeGreaterThan(0);
    expect(stored).toContain('grep-other');
    expect(seenByRedis).toContain('grep-other');
    expect(output).toContain('GSMS attempt');
    expect(leaks(output)).toEqual([]);
    expect(leaks(seenByRedis)).toEqual([]);
    expect(leaks(stored)).toEqual([]);
  });
});

