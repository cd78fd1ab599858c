/**
 * An in-memory Store for @envelop/rate-limiter whose entries expire. The library's InMemoryStore keeps
 * every identity it has ever seen and copies its whole state object on each call, so a stream of
 * made-up user hashes (any `x=` value passes until GSMS checks the token) would grow memory and slow every
 * call. Here each entry lives one window after its last call (the library passes the window to
 * `setForIdentity`), and expired entries are swept every so often as calls arrive, with no timer to stop.
 */
import type { Store } from '@envelop/rate-limiter';

type Identity = Parameters<Store['getForIdentity']>[0];

const SWEEP_EVERY_CALLS = 1_000;

export class ExpiringMemoryStore implements Store {
  readonly #entries = new Map<string, { timestamps: readonly number[]; expiresAt: number }>();
  #callsSinceSweep = 0;

  getForIdentity(identity: Identity): readonly number[] {
    const entry = this.#entries.get(key(identity));
    return entry && entry.expiresAt > Date.now() ? entry.timestamps : [];
  }

  setForIdentity(identity: Identity, timestamps: readonly number[], windowMs = 60_000): void {
    const now = Date.now();
    this.#entries.set(key(identity), { timestamps: [...timestamps], expiresAt: now + windowMs });
    if (++this.#callsSinceSweep >= SWEEP_EVERY_CALLS) this.#sweep(now);
  }

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(now: number): void {
    this.#callsSinceSweep = 0;
    for (const [entryKey, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(entryKey);
  }
}

const key = (identity: Identity): string => `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
