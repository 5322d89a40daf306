import { CpuResults } from './cpu.ts';
import { summarize, type FigureRow } from './stats.ts';

/** Every round's value of every figure, in the order figures first appeared. */
export class Results {
  /** CPU per task or execution of the throughput phases, by process group. */
  readonly cpu = new CpuResults();
  readonly #figures = new Map<string, { unit: string; values: number[] }>();

  add(name: string, unit: string, value: number): void {
    const figure = this.#figures.get(name) ?? { unit, values: [] };
    figure.values.push(value);
    this.#figures.set(name, figure);
    process.stderr.write(`  ${name} = ${value.toFixed(3)} ${unit}\n`);
  }

  median(name: string): number {
    return summarize(this.#figures.get(name)?.values ?? []).median;
  }

  rows(): FigureRow[] {
    return [...this.#figures].map(([name, { unit, values }]) => ({ name, unit, summary: summarize(values) }));
  }
}
