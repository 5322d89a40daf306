const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/**
 * The sum of the samples of `name` whose labels include `labels`, read from Prometheus text format
 * (what /metrics serves); 0 when there is none. For tests and quick checks, not a full parser.
 */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map([...(match[2] ?? '').matchAll(LABEL)].map((label) => [label[1], label[2]]));
    if (Object.entries(labels).every(([key, wanted]) => found.get(key) === wanted)) sum += Number(match[3]);
  }
  return sum;
}
