/**
 * The emulator's cluster behaviour as a caller sees it: capacity, queueing, idempotency, lifetimes and faults.
 */
import { describe, it, expect } from 'vitest';
import { RETRYABLE_STATUSES } from '../../src/gsms/errors.js';
import type { RunningEmulator } from '../../src/gsms/emulator/server.js';
import { postCluster, postUntilState, sessionPath, startTestEmulator, TEST_SCID } from '../support/emulator.js';

const TITLE = 1234;

function post(emulator: RunningEmulator, name: string, abortIfQueued?: unknown, titleId = TITLE) {
  const body = abortIfQueued === undefined ? { sessionId: sessionPath(name) } : { sessionId: sessionPath(name), abortIfQueued };
  return postCluster(emulator, { titleId, body });
}

async function stateOf(emulator: RunningEmulator, name: string, abortIfQueued?: unknown, titleId = TITLE): Promise<string> {
  const response = await post(emulator, name, abortIfQueued, titleId);
  expect(response.status).toBe(200);
  return response.body.fulfillmentState;
}

describe('capacity', () => {
  it('fulfils up to capacity, then queues, or aborts when asked to', async () => {
    const emulator = await startTestEmulator({ capacity: 2 });
    expect(await stateOf(emulator, 'a')).toBe('Fulfilled');
    expect(await stateOf(emulator, 'b')).toBe('Fulfilled');
    expect(await stateOf(emulator, 'c')).toBe('Queued');
    expect(await stateOf(emulator, 'd', true)).toBe('Aborted');
    expect(emulator.snapshot()).toEqual([{ titleId: String(TITLE), running: 2, queued: 1 }]);
    // Aborted is not stored: posting again is a new request.
    expect(await stateOf(emulator, 'd')).toBe('Queued');
    expect(emulator.snapshot()).toEqual([{ titleId: String(TITLE), running: 2, queued: 2 }]);
  });

  it('counts capacity per title', async () => {
    const emulator = await startTestEmulator({ capacity: 1 });
    expect(await stateOf(emulator, 'a', undefined, 1)).toBe('Fulfilled');
    expect(await stateOf(emulator, 'b', undefined, 2)).toBe('Fulfilled');
    expect(await stateOf(emulator, 'c', undefined, 1)).toBe('Queued');
  });

  it('serves queued heads at once when capacity is raised', async () => {
    const emulator = await startTestEmulator({ capacity: 0 });
    expect(await stateOf(emulator, 'a')).toBe('Queued');
    expect(await stateOf(emulator, 'b')).toBe('Queued');
    emulator.setCapacity(1);
    expect(await stateOf(emulator, 'b')).toBe('Queued');
    expect(await stateOf(emulator, 'a')).toBe('Fulfilled');
  });
});

describe('abortIfQueued forms', () => {
  it.each([
    ['absent', undefined, 'Queued'],
    ['false', false, 'Queued'],
    ['"false"', 'false', 'Queued'],
    ['"False"', 'False', 'Queued'],
    ['true', true, 'Aborted'],
    ['"true"', 'true', 'Aborted'],
    ['"TRUE"', 'TRUE', 'Aborted'],
  ])('%s on a full title answers %s', async (_name, abortIfQueued, expected) => {
    const emulator = await startTestEmulator({ capacity: 0 });
    expect(await stateOf(emulator, 'x', abortIfQueued)).toBe(expected);
  });
});

describe('a fulfilled session', () => {
  it('gets a host, region, port mappings and secure context, and the same ones on every re-post', async () => {
    const emulator = await startTestEmulator({ capacity: 2 });
    const first = await post(emulator, 'game');
    expect(first.body).toMatchObject({
      pollIntervalMilliseconds: '1000',
      fulfillmentState: 'Fulfilled',
      hostName: expect.stringMatching(/\S/),
      region: expect.stringMatching(/\S/),
      secureContext: expect.stringMatching(/^[A-Za-z0-9+/]+={0,2}$/),
    });
    expect(first.body.portMappings[0]).toEqual({ Key: 'game', Value: { internal: 7777, external: expect.any(Number) } });
    for (const { Key, Value } of first.body.portMappings) {
      expect(typeof Key).toBe('string');
      expect(Value.external).toBeGreaterThanOrEqual(30_000);
      expect(Value.external).toBeLessThanOrEqual(40_000);
    }
    const again = await post(emulator, 'game', true);
    expect(again.body).toEqual(first.body);
    const other = await post(emulator, 'other');
    expect(other.body.hostName).not.toBe(first.body.hostName);
  });
});

describe('one session, several spellings', () => {
  it('maps /session/, sessionTemplates and an upper-case scid to the same request', async () => {
    const emulator = await startTestEmulator({ capacity: 5 });
    const spellings = [
      `/serviceconfigs/${TEST_SCID}/sessiontemplates/quick/sessions/room`,
      `/serviceconfigs/${TEST_SCID}/sessiontemplates/quick/session/room`,
      `/serviceconfigs/${TEST_SCID}/sessionTemplates/quick/sessions/room`,
      `/serviceconfigs/${TEST_SCID.toUpperCase()}/SessionTemplates/quick/Session/room`,
    ];
    const answers = [];
    for (const sessionId of spellings) answers.push((await postCluster(emulator, { titleId: TITLE, body: { sessionId } })).body);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(emulator.requestCount(sessionPath('room'))).toBe(spellings.length);
    expect(emulator.snapshot()).toEqual([{ titleId: String(TITLE), running: 1, queued: 0 }]);
  });

  it('keeps a queued session queued whatever abortIfQueued says on later posts', async () => {
    const emulator = await startTestEmulator({ capacity: 0 });
    expect(await stateOf(emulator, 'q')).toBe('Queued');
    expect(await stateOf(emulator, 'q', true)).toBe('Queued');
    expect(await stateOf(emulator, 'q', 'TRUE')).toBe('Queued');
  });
});

describe('first come, first served', () => {
  it('gives freed capacity to the head of the queue; the next stays queued', async () => {
    const emulator = await startTestEmulator({ capacity: 1 });
    const first = await post(emulator, 'a');
    expect(first.body.fulfillmentState).toBe('Fulfilled');
    expect(await stateOf(emulator, 'b')).toBe('Queued');
    expect(await stateOf(emulator, 'c')).toBe('Queued');
    emulator.releaseClusters(String(TITLE));
    expect(await stateOf(emulator, 'c')).toBe('Queued');
    expect(await stateOf(emulator, 'b')).toBe('Fulfilled');
    // The released session has no request any more: posting it again queues it behind c.
    expect(await stateOf(emulator, 'a')).toBe('Queued');
    expect(emulator.snapshot()).toEqual([{ titleId: String(TITLE), running: 1, queued: 2 }]);
  });

  it('releases only the named title', async () => {
    const emulator = await startTestEmulator({ capacity: 1 });
    await post(emulator, 'a', undefined, 1);
    await post(emulator, 'b', undefined, 2);
    emulator.releaseClusters('1');
    expect(emulator.snapshot()).toEqual([{ titleId: '2', running: 1, queued: 0 }]);
    emulator.releaseClusters();
    expect(emulator.snapshot()).toEqual([]);
  });
});

describe('cluster lifetime', () => {
  it('frees capacity when a cluster ends, so the queued session becomes Fulfilled', async () => {
    // Long enough that b is still queued when asked right after a on a busy machine; short enough to wait out.
    const emulator = await startTestEmulator({ capacity: 1, clusterLifetimeMs: 600 });
    const first = await post(emulator, 'a');
    expect(await stateOf(emulator, 'b')).toBe('Queued');
    const served = await postUntilState(emulator, { titleId: TITLE, body: { sessionId: sessionPath('b') } }, 'Fulfilled', { deadlineMs: 3000 });
    expect(served.body.hostName).not.toBe(first.body.hostName);
    // b's own cluster ends too; the title then has nothing running or queued.
    await expect.poll(() => emulator.snapshot(), { timeout: 3000, interval: 20 }).toEqual([]);
  });
});

describe('faults', () => {
  it('with fault rate 1 answers only retryable statuses, Retry-After on 429 and 503, and changes nothing', async () => {
    const emulator = await startTestEmulator({ capacity: 1, faultRate: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const response = await post(emulator, `s${i % 3}`);
      seen.add(response.status);
      expect(RETRYABLE_STATUSES).toContain(response.status);
      expect(response.body).toMatchObject({ code: response.status });
      expect(response.headers['x-xblcorrelationid']).toBeTruthy();
      expect(response.headers['retry-after']).toBe([429, 503].includes(response.status) ? '1' : undefined);
    }
    expect(seen.size).toBeGreaterThan(2);
    expect(emulator.snapshot()).toEqual([]);
    emulator.setFaultRate(0);
    expect(await stateOf(emulator, 's0')).toBe('Fulfilled');
  });

  it('answers injected faults in order, then answers normally', async () => {
    const emulator = await startTestEmulator();
    emulator.injectFaults([503, 500, 429]);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await post(emulator, 'a'));
    expect(statuses.map((r) => r.status)).toEqual([503, 500, 429, 200]);
    expect(statuses.map((r) => r.headers['retry-after'])).toEqual(['1', undefined, '1', undefined]);
    expect(emulator.requestCount(sessionPath('a'))).toBe(4);
  });

  it('sends the given Retry-After on injected faults', async () => {
    const emulator = await startTestEmulator();
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    emulator.injectFaults([503], date);
    expect((await post(emulator, 'a')).headers['retry-after']).toBe(date);
  });

  it('draws faults only for requests that passed auth and validation', async () => {
    const emulator = await startTestEmulator({ capacity: 1 });
    await post(emulator, 'a');
    emulator.injectFaults([503]);
    expect((await postCluster(emulator, { authorization: null })).status).toBe(401);
    expect((await postCluster(emulator, { body: '{' })).status).toBe(400);
    const faulted = await post(emulator, 'b', true);
    expect(faulted.status).toBe(503);
    expect(emulator.snapshot()).toEqual([{ titleId: String(TITLE), running: 1, queued: 0 }]);
    expect(await stateOf(emulator, 'b')).toBe('Queued');
  });
});

describe('request log', () => {
  it('records every answered post and resolves waiters on the next match', async () => {
    const emulator = await startTestEmulator({ capacity: 0 });
    const waiting = emulator.waitForRequest((r) => r.sessionKey === sessionPath('w') && r.state === 'QUEUED');
    await postCluster(emulator, { authorization: null });
    await post(emulator, 'w');
    const record = await waiting;
    expect(record).toMatchObject({ titleId: String(TITLE), status: 200, state: 'QUEUED' });
    expect(emulator.requests.map((r) => r.status)).toEqual([401, 200]);
    expect(emulator.requestCount()).toBe(2);
    await expect(emulator.waitForRequest(() => false, 50)).rejects.toThrow(/no matching/);
  });
});
