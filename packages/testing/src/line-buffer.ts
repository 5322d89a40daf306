import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

interface Waiter {
  re: RegExp;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Collects the lines of one or more streams (a child's stdout and stderr) in
 * arrival order, and lets callers wait for a line that matches a pattern.
 */
export class LineBuffer {
  readonly #lines: string[] = [];
  readonly #waiters = new Set<Waiter>();
  #closedReason: string | undefined;

  /** Reads `stream` line by line into the buffer. */
  attach(stream: Readable | null): void {
    if (!stream) return;
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => this.push(line));
  }

  push(line: string): void {
    this.#lines.push(line);
    for (const waiter of this.#waiters) {
      if (matches(waiter.re, line)) this.#settle(waiter, () => waiter.resolve(line));
    }
  }

  /** A copy of every line collected so far. */
  lines(): string[] {
    return [...this.#lines];
  }

  /** For error messages: the first `head` and the last `tail` lines, joined. */
  excerpt(head = 5, tail = 25): string {
    const lines = this.#lines;
    if (lines.length <= head + tail) return lines.join('\n');
    return [...lines.slice(0, head), `[... ${lines.length - head - tail} lines ...]`, ...lines.slice(-tail)].join('\n');
  }

  /**
   * Resolves with the first line, already collected or still to come, that
   * matches `re`. Rejects after `timeoutMs`, or when `close()` says no more
   * lines will come.
   */
  waitFor(re: RegExp, timeoutMs: number, label = 'output'): Promise<string> {
    const seen = this.#lines.find((line) => matches(re, line));
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#closedReason !== undefined) {
      return Promise.reject(this.#failure(re, label, this.#closedReason));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        re,
        resolve,
        reject,
        timer: setTimeout(
          () => this.#settle(waiter, () => reject(this.#failure(re, label, `timed out after ${timeoutMs} ms`))),
          timeoutMs,
        ),
      };
      this.#waiters.add(waiter);
    });
  }

  /** No more lines will come (the process exited): fail every pending wait with `reason`. */
  close(reason: string, label = 'output'): void {
    this.#closedReason = reason;
    for (const waiter of this.#waiters) {
      this.#settle(waiter, () => waiter.reject(this.#failure(waiter.re, label, reason)));
    }
  }

  #settle(waiter: Waiter, action: () => void): void {
    if (!this.#waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    action();
  }

  #failure(re: RegExp, label: string, reason: string): Error {
    const excerpt = this.excerpt();
    return new Error(
      `no line matching ${String(re)} in ${label}: ${reason}${excerpt ? `\n--- output ---\n${excerpt}` : ''}`,
    );
  }
}

function matches(re: RegExp, line: string): boolean {
  re.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
  return re.test(line);
}
