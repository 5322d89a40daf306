import type { Tx } from './tx.ts';

/** One result transaction's work; it runs in its own savepoint inside a shared transaction. */
export type BatchWork<T = unknown> = (tx: Tx) => Promise<T>;

export type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/** How a batch is committed: every work in its own savepoint, one COMMIT for all (see Db.transactionBatch). */
export type BatchRunner = (works: BatchWork[]) => Promise<Settled[]>;
export type SingleRunner = <T>(work: BatchWork<T>) => Promise<T>;

export interface GroupCommitOptions {
  /** Works committed together at most. @defaultValue 32 */
  maxBatch?: number;
  /** Shared transactions in flight at once (each one connection). @defaultValue 2 */
  concurrency?: number;
}

interface Entry {
  work: BatchWork;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: result transactions that arrive while others are committing wait and then share
 * one PostgreSQL transaction and one COMMIT (one WAL flush) instead of one each. A lone work
 * starts at once (no added latency when idle). Each work runs in its own savepoint, so a work that
 * throws (a lost claim) rolls back alone and the others commit. If the shared transaction itself
 * fails (a deadlock with another process, a lost connection), nothing of it committed and every
 * work is retried alone, as if there were no batching.
 */
export class GroupCommitter {
  readonly #queue: Entry[] = [];
  readonly #maxBatch: number;
  readonly #concurrency: number;
  #inFlight = 0;

  constructor(
    private readonly single: SingleRunner,
    private readonly batch: BatchRunner,
    options: GroupCommitOptions = {},
  ) {
    this.#maxBatch = Math.max(1, options.maxBatch ?? 32);
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
  }

  run<T>(work: BatchWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#queue.length > 0) {
      const entries = this.#queue.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#commit(entries).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #commit(entries: Entry[]): Promise<void> {
    if (entries.length === 1) {
      const [entry] = entries as [Entry];
      await this.single(entry.work).then(entry.resolve, entry.reject);
      return;
    }
    let settled: Settled[];
    try {
      settled = await this.batch(entries.map((entry) => entry.work));
    } catch {
      // Nothing of the shared transaction committed: each work again, alone.
      await Promise.all(entries.map((entry) => this.single(entry.work).then(entry.resolve, entry.reject)));
      return;
    }
    settled.forEach((result, index) => {
      const entry = entries[index];
      if (!entry) return;
      if (result.ok) entry.resolve(result.value);
      else entry.reject(result.error);
    });
  }
}
