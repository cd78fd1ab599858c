import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryClusterRegistry } from '../../src/clusters/memory-registry.js';
import type { ClusterAnswer, FulfillmentState } from '../../src/gsms/wire.js';

const answer = (state: FulfillmentState): ClusterAnswer => ({
  state,
  pollIntervalMs: 1000,
  hostName: null,
  region: null,
  portMappings: [],
  secureContext: null,
  correlationId: null,
});
const request = (sessionId: string, state: FulfillmentState) => ({
  sessionId,
  titleId: '1',
  answer: answer(state),
  requester: 'player',
  credential: 'XBL3.0 x=player;token',
});

let registry: MemoryClusterRegistry | undefined;
afterEach(() => registry?.close());

describe('the in-memory registry forgets records after their retention', () => {
  it('drops a settled record, but keeps a queued one until its watch ends', async () => {
    let now = Date.parse('2026-11-25T12:00:00Z');
    registry = new MemoryClusterRegistry({ retentionMs: 50, watchTimeoutMs: 60_000, now: () => new Date(now) });
    await registry.recordRequest(request('/settled', 'FULFILLED'));
    await registry.recordRequest(request('/queued', 'QUEUED'));

    now += 1_000; // well past the 50 ms retention, well inside the 60 s watch
    await vi.waitFor(async () => expect(await registry!.get('/settled')).toBeNull(), { timeout: 5_000 });
    expect(await registry.get('/queued')).not.toBeNull();

    now += 60_000; // the watch has ended, and the retention after it
    await vi.waitFor(async () => expect(await registry!.get('/queued')).toBeNull(), { timeout: 5_000 });
  });
});
