/**
 * One delivery attempt: a signed POST, judged by its status. Redirects are not followed (undici's
 * `request` follows none without its redirect interceptor), and the whole attempt is bounded by
 * WEBHOOK_TIMEOUT_MS. Names are resolved by the connection's own lookup, which refuses the connection when
 * any address is non-public, so the address checked is the address connected to (no DNS rebinding window).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { isNonPublicAddress } from './address-policy.js';
import { signedHeaders } from './webhook-signing.js';

export type AttemptResult =
  | { kind: 'answered'; status: number }
  /** No answer: a refused address, a timeout, a network error. `reason` is safe to log (no URL, no secret). */
  | { kind: 'failed'; reason: string };

export class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
  readonly code = 'EWEBHOOKADDRESS';
}

function guardedLookup(): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      if (addresses.length === 0 || addresses.some(({ address }) => isNonPublicAddress(address))) {
        return callback(new RefusedAddressError(`${hostname} resolves to a non-public address`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface WebhookSender {
  send(input: { url: string; secret: string; messageId: string; body: string }): Promise<AttemptResult>;
  close(): Promise<void>;
}

export function createWebhookSender(options: { timeoutMs: number; allowPrivateNetworks: boolean }): WebhookSender {
  const { timeoutMs, allowPrivateNetworks } = options;
  const dispatcher = new Agent({
    connect: { timeout: timeoutMs, ...(allowPrivateNetworks ? {} : { lookup: guardedLookup() }) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // A receiver is called rarely; keep few idle sockets around.
    keepAliveTimeout: 4_000,
  });
  return {
    async send({ url, secret, messageId, body }) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      // A literal address never reaches the lookup, so it is checked here.
      if (!allowPrivateNetworks && isIP(host) !== 0 && isNonPublicAddress(host)) {
        return { kind: 'failed', reason: 'refused: non-public address' };
      }
      try {
        const response = await request(url, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', 'user-agent': 'gsms-graphql-webhooks', ...signedHeaders(secret, messageId, body) },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        // The answer's body is not used; read a little and drop it so the socket can be reused.
        await response.body.dump({ limit: 64 * 1024 }).catch(() => {});
        return { kind: 'answered', status: response.statusCode };
      } catch (error) {
        return { kind: 'failed', reason: describe(error) };
      }
    },
    close: () => dispatcher.close(),
  };
}

function describe(error: unknown): string {
  if (error instanceof RefusedAddressError || (error as { cause?: unknown })?.cause instanceof RefusedAddressError) {
    return 'refused: resolves to a non-public address';
  }
  const err = error as { name?: string; code?: string };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timeout';
  return err?.code ?? err?.name ?? 'error';
}
