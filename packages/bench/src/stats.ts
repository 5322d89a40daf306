/** The harness's statistics and output formats: pure functions, tested in test/stats.test.ts. */

export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** Percentile by nearest rank on a copy (p in 0..100); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

/** Median (mean of the two middle values for an even count), min and max of the rounds. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted[sorted.length - 1] ?? Number.NaN };
}

/** Three significant digits at most, no exponent for the magnitudes a bench produces. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'NaN';
  const abs = Math.abs(value);
  if (abs >= 100) return String(Math.round(value));
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** `figure=<name> value=<median> unit=<unit> min=<min> max=<max>` */
export function figureLine(name: string, unit: string, summary: Summary): string {
  return `figure=${name} value=${formatNumber(summary.median)} unit=${unit} min=${formatNumber(summary.min)} max=${formatNumber(summary.max)}`;
}

export interface RatioTarget {
  name: string;
  /** The ratio of the medians, e.g. jetcel throughput / BullMQ throughput. */
  value: number;
  /** `>=` a floor (throughput) or `<=` a ceiling (latency, concurrency). */
  op: '>=' | '<=';
  target: number;
}

export const ratioHolds = (ratio: RatioTarget): boolean =>
  ratio.op === '>=' ? ratio.value >= ratio.target : ratio.value <= ratio.target;

/** `ratio=<name> value=<v> target=<op><t> ok|MISS` */
export function ratioLine(ratio: RatioTarget): string {
  return `ratio=${ratio.name} value=${formatNumber(ratio.value)} target=${ratio.op}${formatNumber(ratio.target)} ${ratioHolds(ratio) ? 'ok' : 'MISS'}`;
}

export interface FigureRow {
  name: string;
  unit: string;
  summary: Summary;
}

/** The Markdown tables of one run: every figure, then every ratio against its target. */
export function markdownTables(figures: readonly FigureRow[], ratios: readonly RatioTarget[]): string {
  const lines = ['| figure | median | min | max | unit |', '| --- | ---: | ---: | ---: | --- |'];
  for (const { name, unit, summary } of figures)
    lines.push(
      `| ${name} | ${formatNumber(summary.median)} | ${formatNumber(summary.min)} | ${formatNumber(summary.max)} | ${unit} |`,
    );
  lines.push('', '| ratio | value | target | holds |', '| --- | ---: | --- | --- |');
  for (const ratio of ratios)
    lines.push(
      `| ${ratio.name} | ${formatNumber(ratio.value)} | ${ratio.op} ${formatNumber(ratio.target)} | ${ratioHolds(ratio) ? 'yes' : 'no'} |`,
    );
  return `${lines.join('\n')}\n`;
}

/** Highest number of intervals open at once ([start, end] in ms; an end at a start does not overlap). */
export function peakConcurrency(intervals: ReadonlyArray<readonly [number, number]>): number {
  const edges = intervals.flatMap(([start, end]) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let peak = 0;
  for (const edge of edges) {
    open += edge.delta;
    peak = Math.max(peak, open);
  }
  return peak;
}
