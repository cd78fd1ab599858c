/**
 * Keeps the page in step with the gateway: subscribe to `clusterEvents`, load the current list with the
 * `clusters` query, then apply each change. When the stream breaks (a gateway restart, a network blip) it
 * starts over after a growing pause, reloading the list, until the operator's credential is refused.
 */
import { GraphQLRequestError, runQuery, runSubscription, type RequestHeaders } from './graphql-client.js';
import type { SessionRow } from './session-table.js';

const FIELDS = 'sessionId titleId state hostName region pollCount requestedAt updatedAt';
// Standings come with the list only: each live change would cost a lookup per dashboard (see SessionTable.apply).
const CLUSTERS = `query DashboardClusters($titleId: ID) { clusters(titleId: $titleId) { ${FIELDS} queuePosition estimatedWaitMs } }`;
const EVENTS = `subscription DashboardEvents($titleId: ID) { clusterEvents(titleId: $titleId) { ${FIELDS} } }`;

/** Poll counts and answer times change without an event (only state changes are published): refresh now and then. */
const REFRESH_MS = 30_000;
/** After a change while sessions are queued, the list is reloaded this soon (once) for fresh positions and estimates. */
const STANDING_REFRESH_MS = 2_000;
const FIRST_RETRY_MS = 1_000;
const LONGEST_RETRY_MS = 10_000;
const REFUSED = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'refused';

export interface LiveFeedOptions {
  headers: RequestHeaders;
  titleId: string | null;
  onStatus(status: FeedStatus, detail?: string): void;
  onSnapshot(rows: SessionRow[]): void;
  onChange(row: SessionRow): void;
  /** Whether the page shows queued sessions: then a change triggers a reload of the list soon. */
  hasQueued?(): boolean;
}

/** Starts following; the returned function stops it. */
export function startLiveFeed(options: LiveFeedOptions): () => void {
  const stopped = new AbortController();
  void follow(options, stopped.signal);
  return () => stopped.abort();
}

async function follow(options: LiveFeedOptions, stopped: AbortSignal): Promise<void> {
  const variables = { titleId: options.titleId };
  let retryMs = FIRST_RETRY_MS;
  while (!stopped.aborted) {
    const attempt = new AbortController();
    const abortAttempt = () => attempt.abort();
    stopped.addEventListener('abort', abortAttempt, { once: true });
    let refresh: ReturnType<typeof setInterval> | undefined;
    let standingRefresh: ReturnType<typeof setTimeout> | undefined;
    try {
      options.onStatus('connecting');
      // Subscribe first, hold its changes until the list is in, so nothing between the two is lost.
      let held: SessionRow[] | null = [];
      const stream = runSubscription<{ clusterEvents: SessionRow }>(
        EVENTS,
        variables,
        options.headers,
        ({ clusterEvents }) => {
          if (held) return void held.push(clusterEvents);
          options.onChange(clusterEvents);
          if (standingRefresh === undefined && options.hasQueued?.()) {
            standingRefresh = setTimeout(() => {
              standingRefresh = undefined;
              void loadList().catch(() => undefined);
            }, STANDING_REFRESH_MS);
          }
        },
        attempt.signal,
      );
      const loadList = async () =>
        options.onSnapshot((await runQuery<{ clusters: SessionRow[] }>(CLUSTERS, variables, options.headers, attempt.signal)).clusters);
      await Promise.race([loadList(), stream]);
      for (const row of held) options.onChange(row);
      held = null;
      options.onStatus('live');
      retryMs = FIRST_RETRY_MS;
      refresh = setInterval(() => void loadList().catch(() => undefined), REFRESH_MS);
      await stream;
    } catch (error) {
      if (stopped.aborted) return;
      if (error instanceof GraphQLRequestError && error.code && REFUSED.has(error.code)) {
        options.onStatus('refused', error.message);
        return;
      }
    } finally {
      clearInterval(refresh);
      clearTimeout(standingRefresh);
      stopped.removeEventListener('abort', abortAttempt);
      attempt.abort();
    }
    if (stopped.aborted) return;
    options.onStatus('reconnecting', `retrying in ${Math.round(retryMs / 1000)} s`);
    await pause(retryMs, stopped);
    retryMs = Math.min(retryMs * 2, LONGEST_RETRY_MS);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
