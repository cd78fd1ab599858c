/**
 * The GSMS client against the real emulator: the three fulfilment states, auth failures, every retryable
 * status, and a 40% fault rate that 40 of 40 calls get through with the default attempt budget.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createGsmsClient, type ClusterRequest, type GsmsClient, type GsmsClientOptions } from '../../src/gsms/client.js';
import { GsmsError } from '../../src/gsms/errors.js';
import type { RunningEmulator } from '../../src/gsms/emulator/server.js';
import { TEST_AUTHORIZATION, sessionPath, startTestEmulator } from '../support/emulator.js';

const TITLE = '1234';

function clientFor(emulator: RunningEmulator, options: Partial<GsmsClientOptions> = {}) {
  const statuses: (number | null)[] = [];
  const gsms: GsmsClient = createGsmsClient({
    baseUrl: emulator.url,
    // Short waits keep the suite fast; maxDelayMs also caps the emulator's `Retry-After: 1`.
    retry: { minDelayMs: 5, maxDelayMs: 50 },
    observer: { onAttempt: (info) => statuses.push(info.status) },
    ...options,
  });
  onTestFinished(() => gsms.close());
  return { gsms, statuses };
}

const request = (session: string, extra: Partial<ClusterRequest> = {}): ClusterRequest => ({
  titleId: TITLE,
  sessionId: sessionPath(session),
  abortIfQueued: false,
  authorization: TEST_AUTHORIZATION,
  ...extra,
});

describe('fulfilment states', () => {
  it('is Fulfilled while there is capacity, then Aborted or Queued, and Fulfilled once capacity frees', async () => {
    const emulator = await startTestEmulator({ capacity: 1, pollIntervalMs: 250 });
    const { gsms } = clientFor(emulator);

    const first = await gsms.requestCluster(request('first'));
    expect(first).toMatchObject({ state: 'FULFILLED', pollIntervalMs: 250, correlationId: expect.any(String) });
    expect(first.hostName).toEqual(expect.any(String));
    expect(first.region).toEqual(expect.any(String));
    expect(first.portMappings.length).toBeGreaterThan(0);

    await expect(gsms.requestCluster(request('impatient', { abortIfQueued: true }))).resolves.toMatchObject({ state: 'ABORTED', hostName: null });
    await expect(gsms.requestCluster(request('patient'))).resolves.toMatchObject({ state: 'QUEUED', hostName: null });

    emulator.releaseClusters(TITLE);
    await expect(gsms.requestCluster(request('patient'))).resolves.toMatchObject({ state: 'FULFILLED', hostName: expect.any(String) });
  });

  it('maps a denied title to FORBIDDEN and a bad credential to UNAUTHENTICATED, each after one attempt', async () => {
    const emulator = await startTestEmulator({ deniedTitles: ['4321'] });
    const { gsms, statuses } = clientFor(emulator);
    await expect(gsms.requestCluster(request('denied', { titleId: '4321' }))).rejects.toMatchObject({ code: 'FORBIDDEN', status: 403 });
    await expect(gsms.requestCluster(request('nocred', { authorization: 'Bearer nope' }))).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    expect(statuses).toEqual([403, 401]);
  });
});

describe('faults', () => {
  it('retries through each retryable status the emulator injects', async () => {
    const emulator = await startTestEmulator();
    const { gsms, statuses } = clientFor(emulator);
    emulator.injectFaults([408, 429, 500, 502, 503, 504]);
    await expect(gsms.requestCluster(request('faulty'))).resolves.toMatchObject({ state: 'FULFILLED' });
    expect(statuses).toEqual([408, 429, 500, 502, 503, 504, 200]);
    expect(emulator.requestCount(sessionPath('faulty'))).toBe(7);
  });

  it('gets 40 of 40 concurrent calls through a 40% fault rate with the default attempt budget', async () => {
    const emulator = await startTestEmulator({ capacity: 1_000, faultRate: 0.4 });
    const { gsms, statuses } = clientFor(emulator);
    const sessions = Array.from({ length: 40 }, (_, i) => `soak-${i}`);
    const results = await Promise.allSettled(sessions.map((s) => gsms.requestCluster(request(s))));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as GsmsError).message);
    expect(failures).toEqual([]);
    expect(results.every((r) => r.status === 'fulfilled' && r.value.state === 'FULFILLED')).toBe(true);
    const faulted = statuses.filter((s) => s !== 200).length;
    console.log(`40 calls at a 40% fault rate: ${statuses.length} attempts observed (${faulted} faulted, ${statuses.length - faulted} answered 200)`);
    expect(statuses.length).toBe(emulator.requestCount());
    expect(statuses.length - faulted).toBe(40);
  });
});
