/**
 * The dashboard's webhook panel: which endpoints are failing (disabled by a 410 Gone, a delivery FAILED
 * after its last retry, or a delivery waiting for a retry), read every REFRESH_MS with the operator's
 * credential. Hidden for a caller who may not manage endpoints (a player) and while there are none.
 * Everything a receiver could influence (its URL) is written as text, never as markup.
 */
import { GraphQLRequestError, runQuery, type RequestHeaders } from './graphql-client.js';

const REFRESH_MS = 15_000;
/** Deliveries read per endpoint: enough to see the latest one and how many are failing. */
const RECENT = 5;

interface Endpoint {
  id: string;
  url: string;
  enabled: boolean;
}
interface Delivery {
  state: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  lastStatus: number | null;
  nextAttemptAt: string | null;
  updatedAt: string;
}

/** Why an endpoint is failing, or null when it is not. */
export function failureOf(endpoint: Endpoint, recent: Delivery[]): string | null {
  if (!endpoint.enabled) return 'disabled: the receiver answered 410 Gone';
  const latest = recent[0];
  const status = (d: Delivery) => (d.lastStatus === null ? 'no answer' : `HTTP ${d.lastStatus}`);
  const attempts = (n: number) => `${n} attempt${n === 1 ? '' : 's'}`;
  if (latest?.state === 'FAILED') return `last delivery failed after ${attempts(latest.attempts)} (${status(latest)})`;
  if (latest?.state === 'PENDING' && latest.attempts > 0) {
    const next = latest.nextAttemptAt ? `, next try ${new Date(latest.nextAttemptAt).toLocaleTimeString()}` : '';
    return `retrying after ${attempts(latest.attempts)} (${status(latest)})${next}`;
  }
  return null;
}

export class WebhookPanel {
  #timer: ReturnType<typeof setInterval> | undefined;
  #generation = 0;

  constructor(
    private readonly section: HTMLElement,
    private readonly body: HTMLTableSectionElement,
    private readonly summary: HTMLElement,
  ) {}

  start(headers: RequestHeaders): void {
    this.stop();
    const generation = ++this.#generation;
    const refresh = () => void this.#refresh(headers, generation);
    refresh();
    this.#timer = setInterval(refresh, REFRESH_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#generation += 1;
    this.section.hidden = true;
  }

  async #refresh(headers: RequestHeaders, generation: number): Promise<void> {
    try {
      const { webhookEndpoints: endpoints } = await runQuery<{ webhookEndpoints: Endpoint[] }>('{ webhookEndpoints { id url enabled } }', {}, headers);
      let recent: Record<string, Delivery[]> = {};
      if (endpoints.length > 0) {
        // One request for every endpoint's recent deliveries, an alias each.
        const variables = Object.fromEntries(endpoints.map((endpoint, i) => [`e${i}`, endpoint.id]));
        const declarations = endpoints.map((_, i) => `$e${i}: ID!`).join(', ');
        const fields = endpoints
          .map((_, i) => `e${i}: webhookDeliveries(endpointId: $e${i}, last: ${RECENT}) { state attempts lastStatus nextAttemptAt updatedAt }`)
          .join('\n');
        recent = await runQuery<Record<string, Delivery[]>>(`query (${declarations}) {\n${fields}\n}`, variables, headers);
      }
      if (generation !== this.#generation) return;
      this.#render(endpoints.map((endpoint, i) => ({ endpoint, failure: failureOf(endpoint, recent[`e${i}`] ?? []) })));
    } catch (error) {
      if (generation !== this.#generation) return;
      // A player may not manage endpoints: no panel. Anything else (the gateway restarting) keeps the last view.
      if (error instanceof GraphQLRequestError && (error.code === 'FORBIDDEN' || error.code === 'UNAUTHENTICATED')) this.stop();
    }
  }

  #render(rows: { endpoint: Endpoint; failure: string | null }[]): void {
    this.section.hidden = rows.length === 0;
    const failing = rows.filter((row) => row.failure !== null);
    this.summary.textContent =
      failing.length === 0 ? `All ${rows.length} webhook endpoints are delivering.` : `${failing.length} of ${rows.length} webhook endpoints failing.`;
    this.body.replaceChildren(
      ...failing.map(({ endpoint, failure }) => {
        const tr = document.createElement('tr');
        for (const text of [endpoint.url, failure ?? '']) {
          const td = document.createElement('td');
          td.textContent = text;
          tr.append(td);
        }
        return tr;
      }),
    );
  }
}
