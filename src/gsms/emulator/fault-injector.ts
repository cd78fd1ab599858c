/**
 * Which answers the emulator replaces by a failure. Two sources: a rate (a share of answers, drawn at random,
 * for demos and soak tests) and a queue of exact statuses (for tests of retry logic that must not be flaky).
 * Queued faults go first. The handler draws only for requests that passed auth and validation, before any
 * state changes, so a faulted answer changes nothing (docs/decisions.md, "Faults").
 */
import { RETRYABLE_STATUSES } from '../errors.js';

export interface Fault {
  status: number;
  /** `Retry-After` to send, if any. */
  retryAfter: string | undefined;
}

/** The spec's GSMS sends `Retry-After` on these; we send 1 second. */
const RETRY_AFTER_STATUSES: readonly number[] = [429, 503];

function defaultRetryAfter(status: number): string | undefined {
  return RETRY_AFTER_STATUSES.includes(status) ? '1' : undefined;
}

export function assertFaultRate(rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`fault rate must be between 0 and 1, got ${rate}`);
}

export class FaultInjector {
  private readonly queued: Fault[] = [];

  constructor(
    private rate: number,
    private readonly random: () => number = Math.random,
  ) {
    assertFaultRate(rate);
  }

  setRate(rate: number): void {
    assertFaultRate(rate);
    this.rate = rate;
  }

  /**
   * Makes the next `statuses.length` eligible answers these statuses, in order. `retryAfter`, when given, is
   * sent on each of them (an empty string sends none); otherwise 429 and 503 carry `Retry-After: 1`.
   */
  inject(statuses: readonly number[], retryAfter?: string): void {
    for (const status of statuses) {
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        throw new RangeError(`injected fault must be a 4xx or 5xx status, got ${status}`);
      }
    }
    for (const status of statuses) {
      const header = retryAfter === undefined ? defaultRetryAfter(status) : retryAfter || undefined;
      this.queued.push({ status, retryAfter: header });
    }
  }

  /** The fault for this answer, or `null` to answer normally. */
  draw(): Fault | null {
    const injected = this.queued.shift();
    if (injected) return injected;
    if (this.rate === 0 || this.random() >= this.rate) return null;
    const status = RETRYABLE_STATUSES[Math.floor(this.random() * RETRYABLE_STATUSES.length)] ?? 503;
    return { status, retryAfter: defaultRetryAfter(status) };
  }
}
