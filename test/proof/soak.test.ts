/**
 * The soak script's code path on tiny numbers, so `npm run soak` cannot rot: a real emulator, the gateway
 * in its own process, mutations, graphql-ws subscriptions to FULFILLED, heap readings. The figures
 * themselves come from the full run (`npm run soak`), not from here.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, QUICK, runSoak } from '../../scripts/soak.js';

describe('npm run soak (tiny)', () => {
  it('runs the whole soak path with zero errors and every subscriber FULFILLED', { timeout: 90_000 }, async () => {
    const report = await runSoak({ ...QUICK, durationS: 1, rate: 20, connections: 2, subscriptions: 4, sessionsPerConnection: 2, identities: 20, verbose: false });
    expect(report.requests).toBeGreaterThanOrEqual(15);
    expect(report.errors).toBe(0);
    expect(report.subscriptions).toEqual({ opened: 8, fulfilled: 8, failed: 0 });
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.heapMb.before).toBeGreaterThan(0);
    expect(formatReport(report)).toContain('requests   ');
  });
});
