/**
 * What the emulator answered, for tests and demos to assert on: a bounded log of answered posts, a count per
 * session, and promises that resolve on the next matching answer (so tests await events instead of sleeping).
 */
import type { FulfillmentState } from '../wire.js';

export interface EmulatorRequestRecord {
  /** The title as answered: decimal when valid, else the path segment as sent. */
  titleId: string;
  /** Canonical session key, when the body named a valid session. */
  sessionKey: string | null;
  status: number;
  /** The fulfilment state answered; `null` for any non-200 answer. */
  state: FulfillmentState | null;
  /** `Date.now()` when the answer was written. */
  at: number;
}

interface Waiter {
  predicate: (record: EmulatorRequestRecord) => boolean;
  resolve: (record: EmulatorRequestRecord) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Records kept; trimmed in batches so appending stays O(1) amortised. */
const DEFAULT_LIMIT = 100_000;

export class RequestLog {
  readonly records: EmulatorRequestRecord[] = [];
  private readonly counts = new Map<string, number>();
  private total = 0;
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  add(entry: Omit<EmulatorRequestRecord, 'at'>): void {
    const record: EmulatorRequestRecord = { ...entry, at: Date.now() };
    this.records.push(record);
    if (this.records.length > this.limit + this.limit / 10) this.records.splice(0, this.records.length - this.limit);
    this.total += 1;
    if (record.sessionKey !== null) this.counts.set(record.sessionKey, (this.counts.get(record.sessionKey) ?? 0) + 1);
    for (const waiter of this.waiters) {
      let matches: boolean;
      try {
        matches = waiter.predicate(record);
      } catch (error) {
        this.settle(waiter);
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (matches) {
        this.settle(waiter);
        waiter.resolve(record);
      }
    }
  }

  /** Posts for one session (all statuses), or every post when no key is given. Not bounded by the ring. */
  count(sessionKey?: string): number {
    return sessionKey === undefined ? this.total : (this.counts.get(sessionKey) ?? 0);
  }

  waitFor(predicate: (record: EmulatorRequestRecord) => boolean, timeoutMs = 5000): Promise<EmulatorRequestRecord> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(waiter);
          reject(new Error(`no matching emulator request within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Rejects every pending wait, so a test awaiting one fails instead of hanging. */
  close(): void {
    for (const waiter of this.waiters) {
      this.settle(waiter);
      waiter.reject(new Error('emulator closed'));
    }
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
  }
}
