/** The sessions the page knows, newest answer per session, drawn as the table's rows and the counts. */
export type FulfillmentState = 'QUEUED' | 'FULFILLED' | 'ABORTED';
export const STATES: readonly FulfillmentState[] = ['QUEUED', 'FULFILLED', 'ABORTED'];

/** The fields the page asks for (see live-feed.ts). */
export interface SessionRow {
  sessionId: string;
  titleId: string;
  state: FulfillmentState;
  hostName: string | null;
  region: string | null;
  pollCount: number;
  requestedAt: string;
  updatedAt: string;
  /** From the `clusters` list only (live changes do not carry them): where a queued session stands. */
  queuePosition?: number | null;
  estimatedWaitMs?: number | null;
  /** When the list with that estimate came in (page clock), so the wait shown counts down between lists. */
  standingAt?: number;
}

/** Whether `candidate` is at least as new as `current`: the later upstream answer, then the later poll. */
function isNewer(candidate: SessionRow, current: SessionRow | undefined): boolean {
  if (!current) return true;
  if (candidate.updatedAt !== current.updatedAt) return candidate.updatedAt > current.updatedAt;
  return candidate.pollCount >= current.pollCount;
}

export class SessionTable {
  #rows = new Map<string, SessionRow>();

  constructor(private readonly body: HTMLTableSectionElement) {}

  /** A full list from the gateway: sessions missing from it are gone (expired, or a restarted gateway). */
  replaceAll(rows: readonly SessionRow[], now = Date.now()): void {
    const next = new Map<string, SessionRow>();
    for (const row of rows) {
      const current = this.#rows.get(row.sessionId);
      const stamped = { ...row, standingAt: now };
      // A live change newer than the list keeps its state, but the list's standing is the fresher one.
      next.set(row.sessionId, current && !isNewer(row, current) ? { ...current, ...standingOf(stamped) } : stamped);
    }
    this.#rows = next;
  }

  /**
   * One change; an older answer than the one shown is ignored. A queued session keeps its standing; one that
   * leaves the line moves the sessions behind it (same title) up one place until the next list.
   */
  apply(row: SessionRow): void {
    const current = this.#rows.get(row.sessionId);
    if (!isNewer(row, current)) return;
    const stillQueued = row.state === 'QUEUED' && current?.state === 'QUEUED';
    this.#rows.set(row.sessionId, stillQueued && row.queuePosition === undefined ? { ...row, ...standingOf(current) } : row);
    const left = current?.state === 'QUEUED' && row.state !== 'QUEUED' ? current.queuePosition : null;
    if (left == null) return;
    for (const other of this.#rows.values()) {
      if (other.state === 'QUEUED' && other.titleId === row.titleId && other.queuePosition != null && other.queuePosition > left) other.queuePosition -= 1;
    }
  }

  /** Whether any row is queued (the feed reloads the list after a change then, to refresh standings). */
  hasQueued(): boolean {
    for (const row of this.#rows.values()) if (row.state === 'QUEUED') return true;
    return false;
  }

  counts(): Record<FulfillmentState, number> {
    const counts: Record<FulfillmentState, number> = { QUEUED: 0, FULFILLED: 0, ABORTED: 0 };
    for (const row of this.#rows.values()) counts[row.state] += 1;
    return counts;
  }

  render(now: number): void {
    const rows = [...this.#rows.values()].sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.sessionId.localeCompare(b.sessionId));
    this.body.replaceChildren(...rows.map((row) => this.#renderRow(row, now)));
    if (rows.length === 0) {
      const empty = cell('No sessions yet: they appear here as soon as a lobby requests a cluster.');
      empty.colSpan = 7;
      empty.className = 'empty';
      const tr = document.createElement('tr');
      tr.append(empty);
      this.body.append(tr);
    }
  }

  #renderRow(row: SessionRow, now: number): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.dataset.sessionId = row.sessionId;
    tr.dataset.state = row.state;
    const session = cell(shortSession(row.sessionId));
    session.title = row.sessionId;
    const state = cell(row.state);
    state.className = `state state-${row.state.toLowerCase()}`;
    // Queued sessions count up; settled ones show how long they waited (until the answer that settled them).
    const waitedUntil = row.state === 'QUEUED' ? now : Date.parse(row.updatedAt);
    const server = row.state === 'FULFILLED' ? `${row.hostName ?? '?'}${row.region ? ` (${row.region})` : ''}` : '—';
    const line = cell(row.state === 'QUEUED' ? formatStanding(row, now) : '—');
    line.className = 'standing';
    tr.append(cell(row.titleId), session, state, cell(formatDuration(waitedUntil - Date.parse(row.requestedAt))), line, cell(server), cell(String(row.pollCount)));
    return tr;
  }
}

function standingOf(row: SessionRow): Pick<SessionRow, 'queuePosition' | 'estimatedWaitMs' | 'standingAt'> {
  return { queuePosition: row.queuePosition, estimatedWaitMs: row.estimatedWaitMs, standingAt: row.standingAt };
}

/** "#3 · ~12 s": place in line and the gateway's estimate, counting down since the list came in. */
export function formatStanding(row: SessionRow, now: number): string {
  if (row.queuePosition == null) return '…';
  if (row.estimatedWaitMs == null) return `#${row.queuePosition} · no estimate yet`;
  const left = row.estimatedWaitMs - Math.max(0, now - (row.standingAt ?? now));
  return `#${row.queuePosition} · ~${formatDuration(Math.max(1_000, left))}`;
}

function cell(text: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

/** `{template}/{name}`: the part that tells sessions apart; the full path is in the tooltip. */
function shortSession(sessionId: string): string {
  const match = /sessiontemplates\/([^/]+)\/sessions\/([^/]+)$/.exec(sessionId);
  return match ? `${match[1]}/${match[2]}` : sessionId;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
