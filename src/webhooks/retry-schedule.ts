/**
 * WEBHOOK_RETRY_SCHEDULE: the waits before each retry, comma-separated, each a number with a unit (`ms`,
 * `s`, `m`, `h`). The default is the Standard Webhooks spec's suggested schedule.
 */
export const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The waits in milliseconds, or null when the text is not a schedule. An empty text means no retries. */
export function parseRetrySchedule(text: string): number[] | null {
  if (text.trim() === '') return [];
  const waits: number[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(part);
    if (!match) return null;
    waits.push(Math.round(Number(match[1]) * UNIT_MS[match[2]!]!));
  }
  return waits;
}
