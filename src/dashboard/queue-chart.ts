/** Queue length over the last minutes, sampled by the page and drawn as an inline SVG step line. */
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 120;
const PAD = 4;
/** The time axis grows with the samples, from one minute up to the window, so a new page is not one flat edge. */
const SHORTEST_SPAN_MS = 60_000;

export class QueueChart {
  readonly #samples: { at: number; queued: number }[] = [];

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly caption: HTMLElement,
    private readonly windowMs = 10 * 60_000,
  ) {
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute('preserveAspectRatio', 'none');
  }

  record(at: number, queued: number): void {
    this.#samples.push({ at, queued });
    while (this.#samples.length > 0 && this.#samples[0]!.at < at - this.windowMs) this.#samples.shift();
  }

  render(now: number): void {
    const peak = Math.max(1, ...this.#samples.map((s) => s.queued));
    const oldest = this.#samples[0]?.at ?? now;
    const spanMs = Math.min(this.windowMs, Math.max(SHORTEST_SPAN_MS, now - oldest));
    const x = (at: number) => PAD + ((at - (now - spanMs)) / spanMs) * (WIDTH - 2 * PAD);
    const y = (queued: number) => HEIGHT - PAD - (queued / peak) * (HEIGHT - 2 * PAD);
    // A step line: the queue keeps its length until the next sample.
    let d = '';
    for (const [i, sample] of this.#samples.entries()) {
      d += i === 0 ? `M${x(sample.at).toFixed(1)},${y(sample.queued).toFixed(1)}` : `H${x(sample.at).toFixed(1)}V${y(sample.queued).toFixed(1)}`;
    }
    if (this.#samples.length > 0) d += `H${x(now).toFixed(1)}`;

    const baseline = document.createElementNS(SVG, 'line');
    baseline.setAttribute('x1', String(PAD));
    baseline.setAttribute('x2', String(WIDTH - PAD));
    baseline.setAttribute('y1', String(y(0)));
    baseline.setAttribute('y2', String(y(0)));
    baseline.setAttribute('class', 'baseline');
    const line = document.createElementNS(SVG, 'path');
    line.setAttribute('d', d);
    line.setAttribute('class', 'queue-line');
    this.svg.replaceChildren(baseline, line);
    const minutes = Math.max(1, Math.round(spanMs / 60_000));
    const highest = this.#samples.length ? Math.max(...this.#samples.map((s) => s.queued)) : 0;
    this.caption.textContent = `Queued sessions, last ${minutes} min (peak ${highest})`;
  }
}
