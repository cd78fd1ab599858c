/**
 * Operator API keys. The environment holds only SHA-256 digests of the keys
 * (`printf %s "$KEY" | sha256sum`), so a leaked configuration does not leak a key. A presented key is
 * hashed and compared with every configured digest in constant time (timingSafeEqual over equal-length
 * digests), and the loop never stops early, so timing says nothing about which digest, or how much of it,
 * matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface OperatorKeys {
  /** Whether any operator key is configured. */
  readonly enabled: boolean;
  /** The key's id (the first 12 hex digits of its digest: enough to tell keys apart in logs, useless to an attacker) or null. */
  match(presented: string): string | null;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function createOperatorKeys(hashesHex: readonly string[]): OperatorKeys {
  const digests = hashesHex.map((hex) => ({ id: hex.slice(0, 12), digest: Buffer.from(hex, 'hex') }));
  return {
    enabled: digests.length > 0,
    match(presented) {
      const candidate = sha256(presented);
      let matched: string | null = null;
      for (const { id, digest } of digests) {
        if (timingSafeEqual(candidate, digest) && matched === null) matched = id;
      }
      return matched;
    },
  };
}
