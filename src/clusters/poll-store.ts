/**
 * What a poll loop needs from where records live: load a session it may poll, prove before a post that it
 * still may, and record the answer. In memory one process polls everything; in Redis exactly one instance
 * polls each queued session (its owner), and the work per poll is one script call (see redis-poll-store.ts).
 */
import type { ClusterAnswer } from '../gsms/wire.js';
import type { ClusterRecord } from './cluster-record.js';
import type { RecordUpdate } from './registry.js';

/** A poll loop's hold on a session between posts. */
export interface PollTicket {
  readonly sessionId: string;
  /** The record the loop plans on: the store refuses a write planned on an older revision ('stale'). */
  record: ClusterRecord;
  /** The most recent requester's credential, opened once per ticket. Secret. */
  credential: string;
  rev: number;
  /** Earliest time any instance may post: the previous holder's reserved post plus one interval. */
  notBefore: number;
  /** A post at this time is already reserved for this loop by the write that recorded the last answer. */
  reservedAt: number | null;
  /** When the store last showed this instance owns the session (epoch ms; shared stores). */
  provenAt: number;
  /** When the record was last written from this ticket, or read into it (epoch ms). */
  writtenAt: number;
}

/** The next post the write reserves, and how long after it nobody else may post. */
export interface NextPost {
  postAt: number;
  notBefore: number;
}

export type ReserveResult = 'reserved' | 'stale' | 'lost';

export interface PollStore {
  /** Whether other instances share the sessions (only then is there ownership to adopt). */
  readonly shared: boolean;
  /** The session, if this instance may poll it and it is still queued; null otherwise. */
  open(sessionId: string): Promise<PollTicket | null>;
  /** Right before a post that is not reserved yet: reserves it if the session is still ours and unchanged. */
  reserve(ticket: PollTicket, next: NextPost): Promise<ReserveResult>;
  /**
   * Shared stores: whether a reserved post may go out without asking the store first. False once this
   * instance's heartbeat may have run out since the ticket's ownership was last proven (the others may have
   * adopted its sessions): the poller then proves it with `reserve` before posting.
   */
  mayPost?(ticket: PollTicket): boolean;
  /**
   * Records a poll's answer and reserves the next post if the session is still ours. `ticket: null` in the
   * result: not ours any more (or settled): stop. 'stale': the record changed since the ticket was taken
   * (another request): open it again and re-apply.
   */
  recordPoll(ticket: PollTicket, answer: ClusterAnswer, next: NextPost): Promise<{ update: RecordUpdate; ticket: PollTicket | null } | 'stale'>;
  /**
   * The watch ran out with the session still queued: nobody polls it until it is requested again.
   * 'stale': it was requested again meanwhile (a new watch): open it again instead.
   */
  endWatch(ticket: PollTicket): Promise<'ended' | 'stale'>;
  /**
   * Shared stores: keeps this instance's heartbeat and hands over the sessions of instances whose heartbeat
   * ran out, to be polled here. Called every `heartbeatMs`.
   */
  tick?(): Promise<string[]>;
  readonly heartbeatMs?: number;
  /** Shared stores: leaves at once, so the others adopt this instance's sessions without waiting. */
  leave?(): Promise<void>;
}
