/**
 * A webhook receiver on loopback for tests: records every call, verifies each with the `standardwebhooks`
 * package (the check a studio's backend would make), and answers with the statuses a test scripts.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { Webhook } from 'standardwebhooks';

export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed and verified with the secret in force when the call arrived; null when verification failed. */
  verified: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  /** The status the receiver answered. */
  status: number;
  /** When the call arrived (Date.now()). */
  receivedAt: number;
}

export interface TestReceiver {
  url: string;
  calls: ReceivedCall[];
  /** The secret calls are verified with (set it after creating or rotating the endpoint). */
  secret: string;
  /** Statuses to answer, in order (-1: hold the request unanswered); 204 once they run out. */
  script: number[];
  /** Resolves once `count` calls have arrived (bounded by `timeoutMs`). */
  waitForCalls(count: number, timeoutMs?: number): Promise<ReceivedCall[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<TestReceiver> {
  const waiters: { count: number; resolve: () => void }[] = [];
  const receiver: TestReceiver = {
    url: '',
    calls: [],
    secret: '',
    script: [],
    async waitForCalls(count, timeoutMs = 20_000) {
      if (receiver.calls.length < count) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`receiver got ${receiver.calls.length} of ${count} calls within ${timeoutMs} ms`)),
            timeoutMs,
          );
          waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
        });
      }
      return receiver.calls.slice(0, count);
    },
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified: ReceivedCall['verified'] = null;
      try {
        verified = new Webhook(receiver.secret).verify(body, req.headers as Record<string, string>) as ReceivedCall['verified'];
      } catch {
        verified = null;
      }
      const status = receiver.script.shift() ?? 204;
      receiver.calls.push({ headers: req.headers, body, verified, status, receivedAt: Date.now() });
      // -1: never answer (the sender's timeout or death ends it).
      if (status !== -1) res.writeHead(status).end();
      for (const waiter of waiters.filter((w) => receiver.calls.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

export const OPERATOR_KEY = 'webhook-test-operator-key';
export const OPERATOR_KEY_HASHES = createHash('sha256').update(OPERATOR_KEY).digest('hex');

/** POSTs an operation with headers of the test's choosing (the operator key goes in `x-api-key`). */
export async function graphqlWith<T = Record<string, unknown>>(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<{ data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }> {
  const response = await request(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.body.json()) as never;
}

export const CREATE_ENDPOINT = `mutation ($url: String!, $titleId: ID, $eventTypes: [WebhookEventType!]) {
  createWebhookEndpoint(url: $url, titleId: $titleId, eventTypes: $eventTypes) { secret endpoint { id url titleId eventTypes enabled createdAt } }
}`;
export const ROTATE_SECRET = `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }`;
export const DELIVERIES = `query ($id: ID!, $last: Int = 20) { webhookDeliveries(endpointId: $id, last: $last) { id eventId eventType sessionId attempts lastStatus state nextAttemptAt updatedAt } }`;
export const REQUEST_CLUSTER = `mutation ($titleId: ID!, $sessionId: String!) { requestCluster(titleId: $titleId, sessionId: $sessionId) }`;
