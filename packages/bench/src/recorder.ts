import { nowMs } from './clock.ts';

export interface Sample {
  latencyMs: number;
  /** When the handler started and ended (throttled scenario: peak concurrency). */
  interval?: readonly [number, number];
}

export interface Drained {
  count: number;
  lastAt: number;
  latencies: number[];
  intervals: Array<readonly [number, number]>;
}

/** What a bench worker process saw: one sample per handled task, drained by the driver. */
export class Recorder {
  #count = 0;
  #lastAt = 0;
  #latencies: number[] = [];
  #intervals: Array<readonly [number, number]> = [];

  add(sample: Sample): void {
    this.#count++;
    this.#lastAt = nowMs();
    this.#latencies.push(sample.latencyMs);
    if (sample.interval) this.#intervals.push(sample.interval);
  }

  /** A task message carries its send time `t`; the latency ends now. */
  sent(t: number): void {
    this.add({ latencyMs: nowMs() - t });
  }

  count(): { count: number; lastAt: number } {
    return { count: this.#count, lastAt: this.#lastAt };
  }

  drain(): Drained {
    const drained = {
      count: this.#count,
      lastAt: this.#lastAt,
      latencies: this.#latencies,
      intervals: this.#intervals,
    };
    this.#count = 0;
    this.#lastAt = 0;
    this.#latencies = [];
    this.#intervals = [];
    return drained;
  }
}
