import type { Logger } from '@jetcel/core';
import type { CommittedOutboxRow, Db, OutboxRow } from '@jetcel/db';
import { MarkBatcher } from './mark-batcher.ts';

/** Publishes one outbox row; throws if the broker refused it (the row stays for a retry). */
export type OutboxPublisher = (row: OutboxRow) => Promise<void>;

export interface RelayOptions {
  publish: OutboxPublisher;
  logger: Logger;
  /** Rows claimed per round. @defaultValue 100 */
  batchSize?: number;
  /** How long a claimed row is reserved for this relay before another may take it. @defaultValue 10000 */
  leaseMs?: number;
  /** Sweep period: rows a crash left behind, timers that came due. @defaultValue 1000 */
  sweepMs?: number;
  /**
   * Rows committed in this process and due at once are leased to it for this long and published
   * from memory right after COMMIT (no claim round); a crash leaves them to a sweep once the
   * lease runs out. @defaultValue 5000
   */
  handoffLeaseMs?: number;
  /** Run on every sweep before the claim round (the reconciler: its rows are then published at once). */
  onSweep?: () => Promise<void>;
  /**
   * How long a published mark that would carry few rows waits for more; shorter than
   * `handoffLeaseMs` by far, so a lingering row is never published twice. @defaultValue 25
   */
  markLingerMs?: number;
}

/**
 * The outbox relay. Rows this process commits are handed over in memory after COMMIT and
 * published at once (the hand-off); on a timer (sweep) and when the nearest `not_before` comes
 * due, it claims due rows with SKIP LOCKED: rows of processes that died, timers, failed
 * publishes. Each row is published with its id as Nats-Msg-Id and marked published in batches.
 * Several relays (one per process) share the work safely.
 */
export class OutboxRelay {
  #running = false;
  #again = false;
  #stopped = false;
  #sweepTimer: NodeJS.Timeout | undefined;
  #dueTimer: NodeJS.Timeout | undefined;
  #dueAt = Number.POSITIVE_INFINITY;
  #idle: Promise<void> = Promise.resolve();
  #published = 0;
  #failed = 0;
  #detach: (() => void) | undefined;
  readonly #handingOff = new Set<Promise<void>>();
  readonly #marks: MarkBatcher;

  constructor(
    private readonly db: Db,
    private readonly options: RelayOptions,
  ) {
    this.#marks = new MarkBatcher((ids) => this.db.outbox.markPublished(ids), options.markLingerMs ?? 25);
  }

  start(): void {
    const sweepMs = this.options.sweepMs ?? 1000;
    this.#sweepTimer = setInterval(() => this.sweep(), sweepMs);
    this.#sweepTimer.unref();
    this.#detach = this.db.onCommit((rows) => this.handOff(rows), {
      handoffLeaseMs: this.options.handoffLeaseMs ?? 5000,
    });
    this.kick();
  }

  /** Publishes what a COMMIT of this process wrote: rows due now at once, later ones at their time. */
  handOff(rows: CommittedOutboxRow[]): void {
    if (this.#stopped) return;
    for (const row of rows) {
      if (!row.leased) {
        // Not ours alone (a timer, or no lease): the claim round publishes it when due.
        this.wakeAt(row.notBefore?.getTime() ?? Date.now());
        continue;
      }
      const due: OutboxRow = { ...row, notBefore: new Date(), attempts: 0 };
      const published = this.options.publish(due).then(
        () => {
          this.#published += 1;
          this.#marks.add(row.id);
        },
        async (error: unknown) => {
          // Recorded like a failed relay publish: a sweep retries it after a backoff.
          this.#failed += 1;
          await this.markFailed(due, error).catch(() => undefined);
        },
      );
      this.#handingOff.add(published);
      void published.finally(() => this.#handingOff.delete(published));
    }
  }

  /** Arms the due timer for `at` unless it is already armed earlier. */
  private wakeAt(at: number): void {
    if (this.#stopped || at >= this.#dueAt) return;
    clearTimeout(this.#dueTimer);
    this.#dueAt = at;
    this.#dueTimer = setTimeout(
      () => {
        this.#dueAt = Number.POSITIVE_INFINITY;
        this.kick();
      },
      Math.min(60_000, Math.max(0, at - Date.now())),
    );
    this.#dueTimer.unref();
  }

  /** Publishes whatever is due now; coalesces concurrent kicks into one more round. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#idle = this.drain()
      .catch((error: unknown) => this.options.logger.warn('outbox relay round failed', { error: String(error) }))
      .finally(() => {
        this.#running = false;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  stats(): { published: number; failed: number } {
    return { published: this.#published, failed: this.#failed };
  }

  /** Waits for the current round, the hand-offs in flight and their marks to end. */
  async idle(): Promise<void> {
    await this.#idle;
    await Promise.allSettled([...this.#handingOff]);
    await this.#marks.idle();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#detach?.();
    clearInterval(this.#sweepTimer);
    clearTimeout(this.#dueTimer);
    await this.idle();
  }

  private sweep(): void {
    // Its failures are the reconciler's to log; the claim round runs either way.
    void this.options.onSweep?.().catch(() => undefined);
    this.kick();
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 100;
    for (;;) {
      if (this.#stopped) return;
      const rows = await this.db.outbox.claimDue(batchSize, this.options.leaseMs ?? 10_000);
      if (rows.length === 0) break;
      const results = await Promise.allSettled(rows.map((row) => this.options.publish(row)));
      const published = rows.filter((_, index) => results[index]?.status === 'fulfilled').map((row) => row.id);
      const failed = rows
        .map((row, index) => ({ row, result: results[index] }))
        .filter(
          (entry): entry is { row: OutboxRow; result: PromiseRejectedResult } => entry.result?.status === 'rejected',
        );
      await this.db.outbox.markPublished(published);
      for (const { row, result } of failed) await this.markFailed(row, result.reason);
      this.#published += published.length;
      this.#failed += failed.length;
      if (rows.length < batchSize || failed.length > 0) break;
    }
    // Wakes the relay when the nearest future row comes due (poll intervals, backoffs, delays).
    const waitMs = await this.db.outbox.nextDueInMs();
    if (waitMs !== null) this.wakeAt(Date.now() + waitMs);
  }

  /** A refused publish (stream full, broker down) stays unpublished and is retried with backoff. */
  private async markFailed(row: OutboxRow, reason: unknown): Promise<void> {
    const delayMs = Math.min(30_000, 250 * 2 ** Math.min(row.attempts, 7));
    this.options.logger.warn('outbox publish failed; will retry', {
      id: row.id,
      subject: row.subject,
      attempts: row.attempts,
      delayMs,
      error: String(reason),
    });
    await this.db.outbox.markFailed(row.id, delayMs, String(reason));
  }
}
