/**
 * Per-identity rate limit on requestCluster: after N calls in the window an identity gets RATE_LIMITED
 * (HTTP 429 with Retry-After) and GSMS is not called; other identities and other fields are unaffected;
 * over graphql-ws the error comes back on the operation and the socket stays open. With Redis the
 * allowance is shared by every instance.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AUTH, OTHER_AUTH, TITLE, sessionPath, startTestGateway, type GraphQLResponse, type TestGateway } from '../support/gateway.js';
import { deleteKeys, sharedRedis, spawnRedisServer, uniquePrefix } from '../support/redis.js';
import { post } from './http.js';

const REQUEST = 'mutation($titleId: ID!, $sessionId: String!) { requestCluster(titleId: $titleId, sessionId: $sessionId) }';
const request = (gw: TestGateway, name: string, authorization = AUTH) => gw.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath(name) }, authorization);
const codeOf = (result: GraphQLResponse) => result.errors?.[0]?.extensions?.code;

describe('one gateway, RATE_LIMIT_REQUEST_CLUSTER=3/60s', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ emulator: { capacity: 50 }, env: { RATE_LIMIT_REQUEST_CLUSTER: '3/60s' } });
  });
  afterAll(() => gw?.close());

  it('the fourth call of one identity is RATE_LIMITED (429, Retry-After) and never reaches GSMS', async () => {
    for (let i = 0; i < 3; i++) expect((await request(gw, `rl-a-${i}`)).data).toEqual({ requestCluster: 'FULFILLED' });
    const before = gw.emulator.requestCount();
    const answer = await post(gw.url, REQUEST, { titleId: TITLE, sessionId: sessionPath('rl-a-3') }, { authorization: AUTH });
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toBe('60');
    expect(answer.json().errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 60 });
    expect(answer.text).not.toContain('token-one-secret');
    expect(gw.emulator.requestCount()).toBe(before);
  });

  it('aliased calls in one operation count one by one', async () => {
    const aliased = (n: number, prefix: string) =>
      `mutation { ${Array.from({ length: n }, (_, i) => `c${i}: requestCluster(titleId: "${TITLE}", sessionId: "${sessionPath(`${prefix}-${i}`)}")`).join(' ')} }`;
    const three = await gw.graphql(aliased(3, 'rl-alias'), {}, 'XBL3.0 x=alias-player;t');
    expect(three.errors).toBeUndefined();
    expect(Object.values(three.data ?? {})).toEqual(['FULFILLED', 'FULFILLED', 'FULFILLED']);
    const four = await gw.graphql(aliased(4, 'rl-alias-more'), {}, 'XBL3.0 x=alias-player-2;t');
    expect(codeOf(four)).toBe('RATE_LIMITED');
  });

  it('another identity keeps its own allowance, and reads stay free', async () => {
    expect((await request(gw, 'rl-b-0', OTHER_AUTH)).data).toEqual({ requestCluster: 'FULFILLED' });
    expect((await gw.graphql('{ clusters { sessionId } }', {}, AUTH)).errors).toBeUndefined();
  });

  it('over graphql-ws the operation gets RATE_LIMITED and the socket stays open', async () => {
    const client = gw.wsClient({ authorization: AUTH });
    const run = (query: string, variables: Record<string, unknown> = {}) =>
      new Promise<GraphQLResponse>((resolve, reject) => {
        let last: GraphQLResponse = { status: 0 };
        client.subscribe({ query, variables }, { next: (r) => void (last = r as GraphQLResponse), error: reject, complete: () => resolve(last) });
      });
    expect(codeOf(await run(REQUEST, { titleId: TITLE, sessionId: sessionPath('rl-ws') }))).toBe('RATE_LIMITED');
    expect((await run('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });
});

describe('RATE_LIMIT_REQUEST_CLUSTER=off', () => {
  it('does not limit', async () => {
    const gw = await startTestGateway({ emulator: { capacity: 50 }, env: { RATE_LIMIT_REQUEST_CLUSTER: 'off' } });
    try {
      const results = await Promise.all(Array.from({ length: 70 }, (_, i) => request(gw, `rl-off-${i}`)));
      expect(results.filter((r) => r.errors)).toEqual([]);
    } finally {
      await gw.close();
    }
  });
});

describe('with Redis, the allowance is shared by every instance', () => {
  let redisUrl: string;
  let disposeRedis: () => Promise<void>;
  const prefix = uniquePrefix('rate-limit');
  beforeAll(async () => {
    ({ url: redisUrl, dispose: disposeRedis } = await sharedRedis());
  });
  afterAll(async () => {
    await deleteKeys(redisUrl, prefix);
    await disposeRedis?.();
  });

  it('two calls on one instance and one on another use up 3/60s; the next, on either, is RATE_LIMITED', async () => {
    const env = { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex'), RATE_LIMIT_REQUEST_CLUSTER: '3/60s' };
    const [one, two] = await Promise.all([startTestGateway({ emulator: { capacity: 50 }, env }), startTestGateway({ emulator: { capacity: 50 }, env })]);
    try {
      expect((await request(one, 'rl-redis-1')).errors).toBeUndefined();
      expect((await request(one, 'rl-redis-2')).errors).toBeUndefined();
      expect((await request(two, 'rl-redis-3')).errors).toBeUndefined();
      expect(codeOf(await request(two, 'rl-redis-4'))).toBe('RATE_LIMITED');
      expect(codeOf(await request(one, 'rl-redis-5'))).toBe('RATE_LIMITED');
      expect((await request(two, 'rl-redis-6', OTHER_AUTH)).errors).toBeUndefined();
      // Aliased calls in one operation are counted together, in one atomic step: 1 + 3 is over 3.
      const aliased = `mutation { ${[1, 2, 3].map((i) => `c${i}: requestCluster(titleId: "${TITLE}", sessionId: "${sessionPath(`rl-redis-alias-${i}`)}")`).join(' ')} }`;
      expect(codeOf(await one.graphql(aliased, {}, OTHER_AUTH))).toBe('RATE_LIMITED');

      const redis = new Redis(redisUrl);
      try {
        const keys = await redis.keys(`${prefix}ratelimit:*`);
        expect(keys.length).toBe(2); // one per identity
        for (const key of keys) expect(await redis.ttl(key)).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('with Redis down, the rate limit answers REGISTRY_UNAVAILABLE', () => {
  it('over HTTP, and over graphql-ws without dropping the socket', async () => {
    const redis = await spawnRedisServer();
    const gw = await startTestGateway({
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix('rate-limit-down'), GSMS_CREDENTIAL_KEY: randomBytes(32).toString('hex'), REDIS_COMMAND_TIMEOUT_MS: '200' },
    });
    try {
      const client = gw.wsClient({ authorization: AUTH });
      const run = (query: string, variables: Record<string, unknown> = {}) =>
        new Promise<GraphQLResponse>((resolve, reject) => {
          let last: GraphQLResponse = { status: 0 };
          client.subscribe({ query, variables }, { next: (r) => void (last = r as GraphQLResponse), error: reject, complete: () => resolve(last) });
        });
      expect((await run('{ __typename }')).data).toEqual({ __typename: 'Query' });
      await redis.stop();
      expect(codeOf(await request(gw, 'rl-down-1'))).toBe('REGISTRY_UNAVAILABLE');
      expect(codeOf(await run(REQUEST, { titleId: TITLE, sessionId: sessionPath('rl-down-2') }))).toBe('REGISTRY_UNAVAILABLE');
      expect((await run('{ __typename }')).data).toEqual({ __typename: 'Query' });
    } finally {
      await gw.close();
      await redis.dispose();
    }
  });
});
