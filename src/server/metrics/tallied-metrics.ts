/**
 * Metrics moved on every poll and every upstream attempt: thousands of times a second on a busy gateway.
 * Here an event adds to a slot the caller looked up once per label set; prom-client sees the totals only when
 * Prometheus scrapes. prom-client's own `inc` and `observe` hash the label set and turn bucket bounds into
 * property names on every call, which was a fifth of what the poller itself spends per poll.
 *
 * The scrape reads exactly as prom-client's Counter and Histogram read (test/operating/tallied-metrics.test.ts
 * compares them): counters are prom-client Counters, topped up from their tallies by their `collect` hook;
 * histograms are a small metric of our own that prom-client's registry formats like its own.
 */
import { Counter, type MetricValueWithName, type Registry } from 'prom-client';

type Labels = Record<string, string>;
/** Identifies a label set among a metric's tallies: any value that is cheap to make per event. */
type TallyKey = string | number;

/** A counter's count for one label set, not yet added to the prom-client Counter. */
export class CounterTally {
  pending = 0;
  constructor(readonly labels: Labels) {}

  inc(): void {
    this.pending += 1;
  }
}

/** A prom-client Counter fed by tallies: `tally(key, labels)` finds (or makes, once) a label set's tally. */
export function talliedCounter<L extends string>(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }) {
  const tallies = new Map<TallyKey, CounterTally>();
  new Counter<L>({
    ...config,
    collect() {
      for (const tally of tallies.values()) {
        if (tally.pending === 0) continue;
        this.inc(tally.labels as Record<L, string>, tally.pending);
        tally.pending = 0;
      }
    },
  });
  return {
    tally(key: TallyKey, labels: () => Record<L, string>): CounterTally {
      let tally = tallies.get(key);
      if (!tally) tallies.set(key, (tally = new CounterTally(labels())));
      return tally;
    },
  };
}

/** A histogram's observations for one label set: per bucket (not cumulative, the last above every bound). */
export class HistogramTally {
  readonly counts: number[];
  sumSeconds = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** One observation, in milliseconds (what the gateway measures); the histogram is in seconds. */
  observeMs(ms: number): void {
    const seconds = ms / 1000;
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > this.bounds[bucket]!) bucket += 1;
    this.counts[bucket]! += 1;
    this.sumSeconds += seconds;
    this.count += 1;
  }
}

/** A histogram in seconds fed by tallies, registered with prom-client's registries and read like its Histogram. */
export class TalliedHistogram<L extends string = never> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly #tallies = new Map<TallyKey, HistogramTally>();
  readonly #bounds: readonly number[];

  constructor(config: { name: string; help: string; buckets: readonly number[]; labelNames?: readonly L[]; registers: Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
    // As prom-client's: a histogram without labels reads as zeros before its first observation.
    if (!config.labelNames?.length) this.tally('', () => ({}) as Record<L, string>);
    for (const registry of config.registers) registry.registerMetric(this as never);
  }

  tally(key: TallyKey, labels: () => Record<L, string>): HistogramTally {
    let tally = this.#tallies.get(key);
    if (!tally) this.#tallies.set(key, (tally = new HistogramTally(labels(), this.#bounds)));
    return tally;
  }

  /**
   * What prom-client's registry formats, in the shape its Histogram gives: per label set, the cumulative
   * buckets, `+Inf`, `_sum` and `_count`, with `le` first and the set's own labels as `sharedLabels`.
   */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricValueWithName<string>[] }> {
    const values: (MetricValueWithName<string> & { sharedLabels: Labels })[] = [];
    for (const tally of this.#tallies.values()) {
      const sample = (suffix: string, labels: Record<string, string | number>, value: number) =>
        values.push({ metricName: `${this.name}${suffix}`, labels, sharedLabels: tally.labels, value });
      let cumulative = 0;
      this.#bounds.forEach((le, i) => sample('_bucket', { le }, (cumulative += tally.counts[i]!)));
      sample('_bucket', { le: '+Inf' }, tally.count);
      sample('_sum', {}, tally.sumSeconds);
      sample('_count', {}, tally.count);
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const tally of this.#tallies.values()) {
      tally.counts.fill(0);
      tally.sumSeconds = 0;
      tally.count = 0;
    }
  }
}
