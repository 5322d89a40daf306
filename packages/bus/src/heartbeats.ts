// One timer for every periodic heartbeat of a process part (a worker): in-flight messages, claims.

/** Something that beats periodically: its period, when it is next due, and what one beat does. */
export interface Beat {
  periodMs: number;
  dueAt: number;
  beat(): void;
}

/** Runs a beat about every `periodMs` until the returned function is called. */
export interface BeatOwner {
  add(periodMs: number, beat: () => void): () => void;
}

/**
 * The heartbeat owner: one timer for many beats, each run about every `periodMs` (like BullMQ's
 * lock manager), instead of one interval per message and another per task. The timer ticks at a
 * quarter of the shortest period, so a beat runs at most that late, and stops when no beat is left.
 */
export class Heartbeats implements BeatOwner {
  readonly #beats = new Set<Beat>();
  #timer: NodeJS.Timeout | undefined;
  #tickMs = Number.POSITIVE_INFINITY;

  /** Runs `beat` every `periodMs` from now until the returned function is called. */
  add(periodMs: number, beat: () => void): () => void {
    const entry: Beat = { periodMs, dueAt: Date.now() + periodMs, beat };
    this.track(entry);
    return () => this.untrack(entry);
  }

  /** Beats `entry` (an object that is its own beat, so no closure per message) until untracked. */
  track(entry: Beat): void {
    this.#beats.add(entry);
    this.retune(entry);
  }

  /** Tells the timer that `entry`'s period may have become shorter. */
  retune(entry: Beat): void {
    const tickMs = Math.max(10, Math.floor(entry.periodMs / 4));
    if (tickMs < this.#tickMs || !this.#timer) this.#arm(Math.min(tickMs, this.#tickMs));
  }

  untrack(entry: Beat): void {
    this.#beats.delete(entry);
    if (this.#beats.size === 0) this.#disarm();
  }

  /** Beats registered now. */
  get size(): number {
    return this.#beats.size;
  }

  /** Whether the one timer is running. */
  get ticking(): boolean {
    return this.#timer !== undefined;
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
    for (const entry of this.#beats) {
      if (entry.dueAt > now) continue;
      entry.dueAt = now + entry.periodMs;
      // A beat reports its own failures; one that throws must not stop the others.
      try {
        entry.beat();
      } catch {
        // ignored: see above
      }
    }
  }
}
