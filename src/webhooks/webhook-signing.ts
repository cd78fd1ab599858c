/**
 * Secrets and signatures, to the Standard Webhooks spec through its own library: a secret is `whsec_` and
 * base64 of 32 random bytes; `webhook-signature` is `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The three headers of one attempt; the timestamp is this attempt's, the id the event's. */
export function signedHeaders(secret: string, messageId: string, body: string, now = new Date()): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, now, body),
  };
}
