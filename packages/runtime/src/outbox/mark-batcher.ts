/**
 * Published marks, batched: one UPDATE in flight at a time, carrying every id published meanwhile.
 * Under load a mark covers dozens of rows; alone, a row is marked at once.
 */
export class MarkBatcher {
  #ids: string[] = [];
  #running: Promise<void> | null = null;

  constructor(private readonly mark: (ids: string[]) => Promise<void>) {}

  add(id: string): void {
    this.#ids.push(id);
    this.#running ??= this.#loop();
  }

  async idle(): Promise<void> {
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (this.#ids.length > 0) {
      const ids = this.#ids.splice(0, 500);
      // A lost mark only means the row is published again, with the same message id.
      await this.mark(ids).catch(() => undefined);
    }
    this.#running = null;
  }
}
