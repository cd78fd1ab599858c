import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, sessionPath, startTestGateway, TITLE, type TestGateway } from '../support/gateway.js';

const REQUEST = /* GraphQL */ `
  mutation Request($titleId: ID!, $sessionId: String!, $abortIfQueued: Boolean) {
    requestCluster(titleId: $titleId, sessionId: $sessionId, abortIfQueued: $abortIfQueued)
  }
`;
const CLUSTER = /* GraphQL */ `
  query Cluster($sessionId: String!) {
    cluster(sessionId: $sessionId) { sessionId titleId state hostName region portMappings { name internalPort externalPort } secureContext correlationId pollCount requestedAt updatedAt }
  }
`;

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({ emulator: { capacity: 1, deniedTitles: ['42'] } });
});
afterAll(() => gateway.close());

describe('requestCluster answers the three states', () => {
  it('FULFILLED when capacity is free, with connection info on the cluster query', async () => {
    const sessionId = sessionPath('fulfilled-1');
    const result = await gateway.graphql(REQUEST, { titleId: TITLE, sessionId });
    expect(result).toMatchObject({ status: 200, data: { requestCluster: 'FULFILLED' } });

    const status = await gateway.graphql<{ cluster: Record<string, unknown> }>(CLUSTER, { sessionId });
    expect(status.errors).toBeUndefined();
    expect(status.data?.cluster).toMatchObject({ sessionId, titleId: TITLE, state: 'FULFILLED', pollCount: 1 });
    expect(status.data?.cluster.hostName).toEqual(expect.any(String));
    expect(status.data?.cluster.region).toEqual(expect.any(String));
    expect(status.data?.cluster.correlationId).toEqual(expect.any(String));
    expect(status.data?.cluster.portMappings).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: expect.any(String), internalPort: expect.any(Number), externalPort: expect.any(Number) })]),
    );
    expect(new Date(String(status.data?.cluster.requestedAt)).toISOString()).toBe(status.data?.cluster.requestedAt);
  });

  it('QUEUED when capacity is taken', async () => {
    const result = await gateway.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath('queued-1') });
    expect(result.data).toEqual({ requestCluster: 'QUEUED' });
  });

  it('ABORTED when capacity is taken and abortIfQueued is set', async () => {
    const result = await gateway.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath('aborted-1'), abortIfQueued: true });
    expect(result.data).toEqual({ requestCluster: 'ABORTED' });
  });

  it('accepts a 0x title id and the singular /session/ spelling, recording them canonically', async () => {
    const sessionId = '/serviceconfigs/00000000-0000-0000-0000-00000000ABCD/sessionTemplates/quick/session/spelled-1';
    const result = await gateway.graphql(REQUEST, { titleId: '0x10', sessionId });
    expect(result.errors).toBeUndefined();
    const status = await gateway.graphql<{ cluster: { sessionId: string; titleId: string } }>(CLUSTER, { sessionId });
    expect(status.data?.cluster).toMatchObject({
      sessionId: '/serviceconfigs/00000000-0000-0000-0000-00000000abcd/sessiontemplates/quick/sessions/spelled-1',
      titleId: '16',
    });
  });
});

describe('bad input is refused before any upstream call', () => {
  const cases: [string, Record<string, unknown>, string | null, string][] = [
    ['a non-numeric title id', { titleId: 'halo', sessionId: sessionPath('bad-1') }, AUTH, 'BAD_USER_INPUT'],
    ['a title id beyond uint32', { titleId: '4294967296', sessionId: sessionPath('bad-2') }, AUTH, 'BAD_USER_INPUT'],
    ['a session id that is not a session path', { titleId: TITLE, sessionId: 'lobby-7' }, AUTH, 'BAD_USER_INPUT'],
    ['no Authorization header', { titleId: TITLE, sessionId: sessionPath('bad-3') }, null, 'UNAUTHENTICATED'],
    ['a non-XBL3.0 Authorization header', { titleId: TITLE, sessionId: sessionPath('bad-4') }, 'Bearer abc', 'UNAUTHENTICATED'],
  ];
  it.each(cases)('%s', async (_name, variables, authorization, code) => {
    // Only posts made for this call count: the poller of a session queued earlier posts meanwhile.
    const posts = () => gateway.emulator.requests.filter((r) => r.sessionKey === null || r.sessionKey === variables.sessionId).length;
    const before = posts();
    const result = await gateway.graphql(REQUEST, variables, authorization);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe(code);
    expect(posts()).toBe(before);
  });

  it('a variable of the wrong type is BAD_USER_INPUT', async () => {
    const result = await gateway.graphql(REQUEST, { titleId: TITLE, sessionId: 7 });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a syntax error and an unknown field carry codes', async () => {
    expect((await gateway.graphql('mutation {')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect((await gateway.graphql('{ nope }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('{ __typename } needs no credential', async () => {
    expect(await gateway.graphql('{ __typename }', {}, null)).toMatchObject({ data: { __typename: 'Query' } });
  });
});

describe('upstream errors reach callers with a code, never a token', () => {
  it('a denied title is FORBIDDEN with the GSMS correlation id', async () => {
    const result = await gateway.graphql(REQUEST, { titleId: '42', sessionId: sessionPath('denied-1') });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', correlationId: expect.any(String) });
    expect(JSON.stringify(result)).not.toContain('token-one-secret');
  });

  it('an upstream that keeps failing is UPSTREAM_UNAVAILABLE', async () => {
    const local = await startTestGateway({ env: { GSMS_RETRY_MAX_ATTEMPTS: '2' } });
    try {
      local.emulator.injectFaults([503, 503, 503], '0');
      const result = await local.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath('down-1') });
      expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      await local.close();
    }
  });
});

describe('queries', () => {
  it('cluster for a session never requested is null with NOT_FOUND', async () => {
    const result = await gateway.graphql(CLUSTER, { sessionId: sessionPath('never') });
    expect(result.data).toEqual({ cluster: null });
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('clusters filters by title and state', async () => {
    const result = await gateway.graphql<{ clusters: { state: string; titleId: string }[] }>(
      'query { clusters(titleId: "1234567890", state: QUEUED) { state titleId sessionId } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.clusters.length).toBeGreaterThan(0);
    expect(result.data?.clusters.every((c) => c.state === 'QUEUED' && c.titleId === TITLE)).toBe(true);
  });
});

describe('through a faulty upstream', () => {
  it('40 of 40 requestCluster calls succeed at a 40% fault rate', async () => {
    const faulty = await startTestGateway({ emulator: { capacity: 100, faultRate: 0.4 } });
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => faulty.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath(`faulty-${i}`) })),
      );
      expect(results.filter((r) => r.errors)).toEqual([]);
      expect(results.every((r) => r.data?.requestCluster === 'FULFILLED')).toBe(true);
      const faults = faulty.emulator.requests.filter((r) => r.status !== 200).length;
      console.log(`40 requestCluster calls at fault rate 0.4: ${faulty.emulator.requests.length} upstream posts, ${faults} faulted, 0 caller errors`);
      expect(faults).toBeGreaterThan(0);
    } finally {
      await faulty.close();
    }
  });
});
