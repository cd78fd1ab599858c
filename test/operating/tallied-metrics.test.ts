/**
 * The tallied metrics (src/server/metrics/tallied-metrics.ts) read exactly as prom-client's own Counter and
 * Histogram read after the same events: the scrape text is compared line for line.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TalliedHistogram, talliedCounter } from '../../src/server/metrics/tallied-metrics.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.1, 1];
/** On a bound, between bounds, fractional, zero and above every bound. */
const OBSERVATIONS_MS = [0, 3, 5, 5.5, 10, 24, 25, 99, 1000, 1001, 7500];

function pair() {
  const reference = new Registry();
  const tallied = new Registry();
  return {
    reference,
    tallied,
    referenceCounter: new Counter({ name: 'attempts_total', help: 'Attempts.', labelNames: ['status', 'attempt'] as const, registers: [reference] }),
    talliedCounter: talliedCounter({ name: 'attempts_total', help: 'Attempts.', labelNames: ['status', 'attempt'] as const, registers: [tallied] }),
    referenceHistogram: new Histogram({ name: 'duration_seconds', help: 'Duration.', labelNames: ['status'] as const, buckets: BUCKETS, registers: [reference] }),
    talliedHistogram: new TalliedHistogram({ name: 'duration_seconds', help: 'Duration.', labelNames: ['status'] as const, buckets: BUCKETS, registers: [tallied] }),
    referenceLag: new Histogram({ name: 'lag_seconds', help: 'Lag.', buckets: BUCKETS, registers: [reference] }),
    talliedLag: new TalliedHistogram({ name: 'lag_seconds', help: 'Lag.', buckets: BUCKETS, registers: [tallied] }),
  };
}

describe('tallied metrics', () => {
  it('scrape as prom-client reads the same events, label sets, bucket edges and zeros included', async () => {
    const metrics = pair();
    // Before any event: the label-less histogram reads as zeros in both, the labelled ones not at all.
    expect(await metrics.tallied.metrics()).toBe(await metrics.reference.metrics());

    for (const [i, ms] of OBSERVATIONS_MS.entries()) {
      const status = i % 3 === 0 ? '503' : '200';
      const attempt = String(1 + (i % 2));
      metrics.referenceCounter.inc({ status, attempt });
      metrics.talliedCounter.tally(`${status}/${attempt}`, () => ({ status, attempt })).inc();
      metrics.referenceHistogram.observe({ status }, ms / 1000);
      metrics.talliedHistogram.tally(status, () => ({ status })).observeMs(ms);
      metrics.referenceLag.observe(ms / 1000);
      metrics.talliedLag.tally('', () => ({})).observeMs(ms);
    }
    const text = await metrics.tallied.metrics();
    expect(text).toBe(await metrics.reference.metrics());
    expect(text).toContain('duration_seconds_bucket{le="0.005",status="200"}');
    expect(text).toContain('lag_seconds_count 11');
  });

  it('add the events since the last scrape to the counter at each scrape, and start again from zero after a reset', async () => {
    const metrics = pair();
    const ok = metrics.talliedCounter.tally('200/1', () => ({ status: '200', attempt: '1' }));
    ok.inc();
    ok.inc();
    expect(await metrics.tallied.metrics()).toContain('attempts_total{status="200",attempt="1"} 2');
    ok.inc();
    expect(await metrics.tallied.metrics()).toContain('attempts_total{status="200",attempt="1"} 3');
    // The same key finds the same tally: the labels are made once.
    expect(metrics.talliedCounter.tally('200/1', () => ({ status: 'never', attempt: 'made' }))).toBe(ok);

    metrics.talliedLag.tally('', () => ({})).observeMs(30);
    expect(await metrics.tallied.metrics()).toContain('lag_seconds_count 1');
    metrics.tallied.resetMetrics();
    const afterReset = await metrics.tallied.metrics();
    expect(afterReset).toContain('lag_seconds_count 0');
    expect(afterReset).toContain('lag_seconds_sum 0');
  });
});
