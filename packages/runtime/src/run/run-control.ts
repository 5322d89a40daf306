// Stopping a running task without an AbortController per task: most tasks never read their signal.

/** The reason a task's signal carries once its run is over (one Error, not a stack per task). */
const FINISHED = new Error('task finished');

/**
 * Stops one task run (shutdown, a lost claim or lease, its timeout). Its `AbortSignal` is made
 * only when something reads `signal` (the task, usually), so a run that nobody stops and whose task
 * ignores the signal costs no AbortController, no Event and no listener.
 */
export class RunControl {
  #aborted = false;
  #reason: unknown;
  #controller: AbortController | undefined;
  /** Set by the run harness: ends the run with the reason. */
  onAbort: ((reason: unknown) => void) | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** The task's signal, made on first read, already aborted if the run was stopped before. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.onAbort?.(reason);
  }

  /** The run is over: a signal handed out is aborted, so work the task left behind stops too. */
  finish(): void {
    this.onAbort = undefined;
    if (!this.#aborted) {
      this.#aborted = true;
      this.#reason = FINISHED;
      this.#controller?.abort(FINISHED);
    }
  }
}
