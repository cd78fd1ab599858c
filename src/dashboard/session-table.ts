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
  replaceAll(rows: readonly SessionRow[]): void {
    const next = new Map<string, SessionRow>();
    for (const row of rows) {
      const current = this.#rows.get(row.sessionId);
      next.set(row.sessionId, current && !isNewer(row, current) ? current : row);
    }
    this.#rows = next;
  }

  /** One change; an older answer than the one shown is ignored. */
  apply(row: SessionRow): void {
    if (isNewer(row, this.#rows.get(row.sessionId))) this.#rows.set(row.sessionId, row);
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
      empty.colSpan = 6;
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
    tr.append(cell(row.titleId), session, state, cell(formatDuration(waitedUntil - Date.parse(row.requestedAt))), cell(server), cell(String(row.pollCount)));
    return tr;
  }
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
