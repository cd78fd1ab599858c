/**
 * The Xbox Live credential header: `XBL3.0 x=<userhash>;<token>`.
 * The user hash identifies the player; the token is a secret and must never be logged or echoed.
 */
const XBL3 = /^XBL3\.0 x=([^;\s]+);(\S.*)$/;

export interface XblCredential {
  userHash: string;
  /** The whole header value, to forward upstream as is. Secret. */
  header: string;
}

/** Parses an `Authorization` value; `null` when it is missing or not an XBL3.0 credential. */
export function parseXblAuthorization(header: string | null | undefined): XblCredential | null {
  if (!header || header.length > 16_384) return null;
  const match = XBL3.exec(header);
  if (!match) return null;
  return { userHash: match[1]!, header };
}
