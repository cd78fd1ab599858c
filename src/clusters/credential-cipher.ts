/**
 * Seals the polling credential before it is stored in Redis: AES-256-GCM with a key from the environment
 * (GSMS_CREDENTIAL_KEY), a fresh 96-bit nonce per value, and the session id as associated data, so a sealed
 * value copied onto another session's record does not open. Anyone reading Redis sees only ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Prefix naming the format, so a future key rotation or algorithm can tell old values apart. */
const FORMAT = 'v1';

export class CredentialCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new RangeError('the credential key must be 32 bytes (AES-256)');
  }

  seal(plaintext: string, sessionId: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(sessionId, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, nonce.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  /** The plaintext, or null when the value was sealed with another key, for another session, or tampered with. */
  open(sealed: string, sessionId: string): string | null {
    const [format, nonce, tag, body] = sealed.split('.');
    if (format !== FORMAT || nonce === undefined || tag === undefined || body === undefined) return null;
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(nonce, 'base64'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(sessionId, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

/** Reads a 32-byte key written as 64 hex digits or as base64; null when it is neither. */
export function parseCredentialKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    if (key.length === 32) return key;
  }
  return null;
}
