/** Most ids one UPDATE carries. */
const MAX_IDS = 500;

/**
 * Published marks, batched: one UPDATE in flight at a time, carrying every id published meanwhile.
 * A mark that would carry few ids first lingers up to `lingerMs` for more: a hand-off row is
 * leased to this process for seconds, so nobody publishes it again meanwhile, and at a few rows a
 * second (a throttled scope) it saves a statement per row. `idle()` marks what is pending at once.
 */
export class MarkBatcher {
  #ids: string[] = [];
  #running: Promise<void> | null = null;
  #flushing = false;
  #wake: (() => void) | undefined;

  constructor(
    private readonly mark: (ids: string[]) => Promise<void>,
    private readonly lingerMs = 0,
  ) {}

  add(id: string): void {
    this.#ids.push(id);
    if (this.#ids.length >= MAX_IDS) this.#wake?.();
    this.#running ??= this.#loop();
  }

  /** Marks every pending id now and waits for the marks in flight. */
  async idle(): Promise<void> {
    this.#flushing = true;
    this.#wake?.();
    try {
      await this.#running;
    } finally {
      this.#flushing = false;
    }
  }

  async #loop(): Promise<void> {
    while (this.#ids.length > 0) {
      await this.#linger();
      const ids = this.#ids.splice(0, MAX_IDS);
      // A lost mark only means the row is published again, with the same message id.
      await this.mark(ids).catch(() => undefined);
    }
    this.#running = null;
  }

  async #linger(): Promise<void> {
    if (this.lingerMs <= 0 || this.#flushing || this.#ids.length >= MAX_IDS) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.lingerMs);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }
}
