/** Reads `GET /metrics` as a test wants it: a sample's value by its series (`name{labels}`), and metric types. */
import { request } from 'undici';

export interface Scrape {
  contentType: string;
  text: string;
  /** Every sample line, keyed as written, e.g. `gsms_sessions{state="QUEUED"}`. */
  samples: Map<string, number>;
  /** `# TYPE` lines: metric name → counter, gauge, histogram or summary. */
  types: Map<string, string>;
  /** A sample's value, 0 when the series is absent (a counter that has not moved yet). */
  value(series: string): number;
}

export async function scrape(gatewayUrl: string): Promise<Scrape> {
  const response = await request(`${gatewayUrl}/metrics`);
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`);
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return { contentType: String(response.headers['content-type']), text, samples, types, value: (series) => samples.get(series) ?? 0 };
}

/** The `le` buckets of one histogram series, in the order written, e.g. for labels `status="200"`. */
export function buckets(scraped: Scrape, name: string, labels = ''): { le: string; count: number }[] {
  const found: { le: string; count: number }[] = [];
  for (const [series, count] of scraped.samples) {
    if (!series.startsWith(`${name}_bucket{`)) continue;
    if (labels && !series.includes(labels)) continue;
    found.push({ le: /le="([^"]+)"/.exec(series)![1]!, count });
  }
  return found;
}
