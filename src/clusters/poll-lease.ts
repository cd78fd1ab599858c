/**
 * Who may poll a session. With several gateway instances, exactly one of them polls each queued session:
 * it holds that session's lease, renews it while it polls, and proves it still holds it right before
 * every post. In one process (the in-memory mode) the poller's own bookkeeping is enough, so the local
 * leases grant everything.
 */
export interface PollLeases {
  /** Whether leases are shared with other instances: only then does the poller scan for orphaned sessions. */
  readonly shared: boolean;
  /** How long a lease lasts without renewal: a dead holder's sessions are free again after this. */
  readonly leaseMs: number;
  /** Takes the lease if it is free (or already ours). */
  acquire(sessionId: string): Promise<boolean>;
  /** Extends a lease we hold; false when it lapsed or another instance holds it now. */
  renew(sessionId: string): Promise<boolean>;
  /**
   * Right before a post: extends the lease if we still hold it and records when the post goes out, so a
   * successor never posts before the advised interval has passed since this one. False: not ours, don't post.
   */
  claimPost(sessionId: string, at: number): Promise<boolean>;
  /** When the last post for this session went out on any instance (epoch ms), if known. */
  lastPostAt(sessionId: string): Promise<number | null>;
  /** Gives the lease up (only if ours) so another instance may take the session at once. */
  release(sessionId: string): Promise<void>;
}

/** One process, no one to share with: every lease is granted, and the record's own timestamps suffice. */
export const localPollLeases: PollLeases = {
  shared: false,
  leaseMs: Number.POSITIVE_INFINITY,
  acquire: async () => true,
  renew: async () => true,
  claimPost: async () => true,
  lastPostAt: async () => null,
  release: async () => {},
};
