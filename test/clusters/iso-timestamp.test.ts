/** The record's timestamps, written on every poll through a per-second cache: always what toISOString writes. */
import { describe, expect, it } from 'vitest';
import { isoTimestamp } from '../../src/clusters/registry.js';

describe('isoTimestamp', () => {
  it('writes what Date#toISOString writes, across seconds, padding, the epoch, fractions and the edges of the format', () => {
    const edges = [0, 1, 9, 10, 99, 100, 999, 1000, -1, -1001, 1.5, 999, 1.5, 253_402_300_799_999, 253_402_300_800_000, -62_198_755_200_001];
    for (const ms of edges) expect(isoTimestamp(ms), String(ms)).toBe(new Date(ms).toISOString());
    // Back and forth across second boundaries, as polls of many sessions answer out of order.
    for (let i = 0; i < 20_000; i += 1) {
      const ms = 1_764_650_000_000 + ((i * 7_919) % 50_000) - (i % 3) * 1_000;
      expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
