// One timer for every periodic heartbeat of a process part (a worker): in-flight messages, claims.

interface Beat {
  periodMs: number;
  dueAt: number;
  run: () => void;
}

/**
 * The heartbeat owner: one timer for many beats, each run about every `periodMs` (like BullMQ's
 * lock manager), instead of one interval per message and another per task. The timer ticks at a
 * quarter of the shortest period, so a beat runs at most that late, and stops when no beat is left.
 */
export class Heartbeats {
  readonly #beats = new Set<Beat>();
  #timer: NodeJS.Timeout | undefined;
  #tickMs = Number.POSITIVE_INFINITY;

  /** Runs `beat` every `periodMs` from now until the returned function is called. */
  add(periodMs: number, beat: () => void): () => void {
    const entry: Beat = { periodMs, dueAt: Date.now() + periodMs, run: beat };
    this.#beats.add(entry);
    const tickMs = Math.max(10, Math.floor(periodMs / 4));
    if (tickMs < this.#tickMs || !this.#timer) this.#arm(Math.min(tickMs, this.#tickMs));
    return () => {
      this.#beats.delete(entry);
      if (this.#beats.size === 0) this.#disarm();
    };
  }

  /** Beats registered now. */
  get size(): number {
    return this.#beats.size;
  }

  #arm(tickMs: number): void {
    clearInterval(this.#timer);
    this.#tickMs = tickMs;
    this.#timer = setInterval(() => this.#tick(), tickMs);
    this.#timer.unref();
  }

  #disarm(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#tickMs = Number.POSITIVE_INFINITY;
  }

  #tick(): void {
    const now = Date.now();
    for (const beat of this.#beats) {
      if (beat.dueAt > now) continue;
      beat.dueAt = now + beat.periodMs;
      // A beat reports its own failures; one that throws must not stop the others.
      try {
        beat.run();
      } catch {
        // ignored: see above
      }
    }
  }
}
