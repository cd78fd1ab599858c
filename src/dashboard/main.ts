/**
 * The operators' dashboard: asks for a credential, then shows every session it may see, live.
 * The credential lives only in this module's memory: never in storage, the URL or the DOM after connecting,
 * so closing or reloading the tab forgets it.
 */
import { startLiveFeed, type FeedStatus } from './live-feed.js';
import { QueueChart } from './queue-chart.js';
import { SessionTable, STATES } from './session-table.js';
import type { RequestHeaders } from './graphql-client.js';
import { WebhookPanel } from './webhook-panel.js';

/** The queue is sampled once a second for the chart; "queued for" ticks at the same pace. */
const TICK_MS = 1_000;

function element<T extends Element>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`dashboard markup lacks ${selector}`);
  return found;
}

/** An Xbox Live token goes in `Authorization`; anything else is an operator API key. */
function credentialHeaders(credential: string): RequestHeaders {
  return /^XBL3\.0\s/i.test(credential) ? { authorization: credential } : { 'x-api-key': credential };
}

const form = element<HTMLFormElement>('#connect');
const credentialInput = element<HTMLInputElement>('#credential');
const titleInput = element<HTMLInputElement>('#title-filter');
const status = element<HTMLElement>('#status');
const table = new SessionTable(element<HTMLTableSectionElement>('#sessions tbody'));
const chart = new QueueChart(element<SVGSVGElement>('#queue-chart'), element<HTMLElement>('#queue-caption'));
const webhooks = new WebhookPanel(element('#webhooks'), element('#failing-webhooks tbody'), element('#webhook-summary'));
const countCells = new Map(STATES.map((state) => [state, element<HTMLElement>(`[data-count="${state}"]`)]));

const STATUS_TEXT: Record<FeedStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'gateway unreachable, reconnecting',
  refused: 'credential refused',
};

let stopFeed: (() => void) | undefined;

function render(): void {
  const now = Date.now();
  table.render(now);
  const counts = table.counts();
  for (const [state, node] of countCells) node.textContent = String(counts[state]);
  chart.render(now);
}

function showStatus(feedStatus: FeedStatus, detail?: string): void {
  status.dataset.status = feedStatus;
  status.textContent = detail ? `${STATUS_TEXT[feedStatus]} (${detail})` : STATUS_TEXT[feedStatus];
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const credential = credentialInput.value.trim();
  if (!credential) return;
  credentialInput.value = '';
  credentialInput.placeholder = 'connected; enter another credential to switch';
  stopFeed?.();
  table.replaceAll([]);
  webhooks.start(credentialHeaders(credential));
  stopFeed = startLiveFeed({
    headers: credentialHeaders(credential),
    titleId: titleInput.value.trim() || null,
    onStatus: showStatus,
    onSnapshot: (rows) => {
      table.replaceAll(rows);
      render();
    },
    hasQueued: () => table.hasQueued(),
    onChange: (row) => {
      table.apply(row);
      chart.record(Date.now(), table.counts().QUEUED);
      render();
    },
  });
});

setInterval(() => {
  chart.record(Date.now(), table.counts().QUEUED);
  render();
}, TICK_MS);
render();
