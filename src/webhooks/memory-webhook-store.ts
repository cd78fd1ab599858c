/** Endpoints and deliveries in this process: the memory mode's store (a restart forgets them). */
import { DELIVERIES_KEPT_PER_ENDPOINT, type WebhookDelivery, type WebhookEndpoint } from './webhook-model.js';
import type { WebhookStore } from './webhook-store.js';

export class MemoryWebhookStore implements WebhookStore {
  readonly #endpoints = new Map<string, { endpoint: WebhookEndpoint; secret: string }>();
  /** Per endpoint, deliveries in insertion order (a Map keeps it), oldest first. */
  readonly #deliveries = new Map<string, Map<string, WebhookDelivery>>();

  async createEndpoint(endpoint: WebhookEndpoint, secret: string): Promise<void> {
    this.#endpoints.set(endpoint.id, { endpoint: { ...endpoint }, secret });
  }
  async setSecret(endpointId: string, secret: string): Promise<boolean> {
    const entry = this.#endpoints.get(endpointId);
    if (!entry) return false;
    entry.secret = secret;
    return true;
  }
  async deleteEndpoint(endpointId: string): Promise<boolean> {
    this.#deliveries.delete(endpointId);
    return this.#endpoints.delete(endpointId);
  }
  async getEndpoint(endpointId: string): Promise<WebhookEndpoint | null> {
    const entry = this.#endpoints.get(endpointId);
    return entry ? { ...entry.endpoint } : null;
  }
  async listEndpoints(): Promise<WebhookEndpoint[]> {
    return [...this.#endpoints.values()].map(({ endpoint }) => ({ ...endpoint }));
  }
  async disableEndpoint(endpointId: string): Promise<void> {
    const entry = this.#endpoints.get(endpointId);
    if (entry) entry.endpoint.enabled = false;
  }
  async secretOf(endpointId: string): Promise<string | null> {
    return this.#endpoints.get(endpointId)?.secret ?? null;
  }

  async addDelivery(delivery: WebhookDelivery): Promise<boolean> {
    if (!this.#endpoints.has(delivery.endpointId)) return false;
    let deliveries = this.#deliveries.get(delivery.endpointId);
    if (!deliveries) this.#deliveries.set(delivery.endpointId, (deliveries = new Map()));
    if (deliveries.has(delivery.id)) return false;
    deliveries.set(delivery.id, { ...delivery });
    for (const id of deliveries.keys()) {
      if (deliveries.size <= DELIVERIES_KEPT_PER_ENDPOINT) break;
      deliveries.delete(id);
    }
    return true;
  }
  async updateDelivery(delivery: WebhookDelivery): Promise<void> {
    const deliveries = this.#deliveries.get(delivery.endpointId);
    if (deliveries?.has(delivery.id)) deliveries.set(delivery.id, { ...delivery });
  }
  async getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    const found = this.#deliveries.get(endpointId)?.get(deliveryId);
    return found ? { ...found } : null;
  }
  async listDeliveries(endpointId: string, last: number): Promise<WebhookDelivery[]> {
    const all = [...(this.#deliveries.get(endpointId)?.values() ?? [])];
    return all.slice(-last).reverse().map((delivery) => ({ ...delivery }));
  }
  async close(): Promise<void> {
    this.#endpoints.clear();
    this.#deliveries.clear();
  }
}
