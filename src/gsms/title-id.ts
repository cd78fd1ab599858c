/**
 * Title ids: GSMS formats them as unsigned 32-bit decimal numbers. We also accept `0x…` hex (how titles
 * are often written in Partner Center) and normalise it to decimal.
 */
const MAX_UINT32 = 0xffff_ffff;

/** The decimal form of a title id, or `null` when the text is not a uint32 in decimal or `0x` hex. */
export function parseTitleId(text: string): string | null {
  let value: number;
  if (/^0x[0-9a-f]{1,8}$/i.test(text)) value = Number.parseInt(text.slice(2), 16);
  else if (/^\d{1,10}$/.test(text)) value = Number(text);
  else return null;
  return value <= MAX_UINT32 ? String(value) : null;
}
