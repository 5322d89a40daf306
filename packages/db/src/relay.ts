import type { Logger } from '@jetcel/core';
import type { Db } from './db.ts';
import type { CommittedOutboxRow, OutboxRow } from './outbox-store.ts';
import { sql } from './sql.ts';
import { toDate } from './records.ts';
import type { BackgroundRunRecord } from './background-run-store.ts';
import type { Tx } from './tx.ts';

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
  /** Steps whose claim expired this long ago are re-queued by the reconciler. @defaultValue 5000 */
  claimGraceMs?: number;
  /** A due step still queued this long after its time is re-published (its message was lost). @defaultValue 60000 */
  staleQueuedMs?: number;
  /** Builds the outbox row that re-publishes a re-queued step (the runtime knows the message shape). */
  onRequeuedSteps?: (stepIds: string[]) => Promise<void>;
  /**
   * Writes, in the reconciler's own transaction, the outbox rows that re-publish background runs
   * whose claim expired (`claimGraceMs`) or that stayed queued too long (`backgroundStaleMs`).
   */
  onRequeuedBackgroundRuns?: (tx: Tx, runs: BackgroundRunRecord[]) => void;
  /** A due background run still queued after this long lost its message. @defaultValue 900000 */
  backgroundStaleMs?: number;
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
  readonly #marks = new MarkBatcher((ids) => this.markPublished(ids));

  constructor(
    private readonly db: Db,
    private readonly options: RelayOptions,
  ) {}

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
    void this.reconcile().catch((error: unknown) =>
      this.options.logger.warn('execution reconciler failed', { error: String(error) }),
    );
    void this.reconcileBackgroundRuns().catch((error: unknown) =>
      this.options.logger.warn('background run reconciler failed', { error: String(error) }),
    );
    this.kick();
  }

  /** Re-queues steps whose holder died (expired claim, nobody took over) with a new outbox row. */
  private async reconcile(): Promise<void> {
    const onRequeued = this.options.onRequeuedSteps;
    if (!onRequeued) return;
    const steps = await this.db.transaction((tx) =>
      tx.steps.requeueExpiredClaims(this.options.claimGraceMs ?? 5000, 100),
    );
    if (steps.length > 0) {
      this.options.logger.warn('re-queued steps whose claim expired', { steps: steps.map((step) => step.id) });
      await onRequeued(steps.map((step) => step.id));
    }
    // A message lost with the stream (a purge, a lost PubAck after a restart): re-publish it.
    const stale = await this.db.transaction((tx) =>
      tx.steps.touchStaleQueued(this.options.staleQueuedMs ?? 60_000, 100),
    );
    if (stale.length > 0) {
      this.options.logger.warn('re-publishing steps queued too long', { steps: stale.map((step) => step.id) });
      await onRequeued(stale.map((step) => step.id));
    }
  }

  /** Re-queues background runs whose worker died or whose message was lost, with new outbox rows. */
  private async reconcileBackgroundRuns(): Promise<void> {
    const onRequeued = this.options.onRequeuedBackgroundRuns;
    if (!onRequeued) return;
    const runs = await this.db.transaction(async (tx) => {
      const requeued = await tx.backgroundRuns.requeueExpired({
        graceMs: this.options.claimGraceMs ?? 5000,
        staleMs: this.options.backgroundStaleMs ?? 900_000,
        limit: 100,
      });
      onRequeued(tx, requeued);
      return requeued;
    });
    if (runs.length > 0)
      this.options.logger.warn('re-queued background runs (claim expired or message lost)', {
        runs: runs.map((run) => run.id),
      });
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 100;
    for (;;) {
      if (this.#stopped) return;
      const rows = await this.claimDue(batchSize);
      if (rows.length === 0) break;
      const results = await Promise.allSettled(rows.map((row) => this.options.publish(row)));
      const published = rows.filter((_, index) => results[index]?.status === 'fulfilled').map((row) => row.id);
      const failed = rows
        .map((row, index) => ({ row, result: results[index] }))
        .filter(
          (entry): entry is { row: OutboxRow; result: PromiseRejectedResult } => entry.result?.status === 'rejected',
        );
      await this.markPublished(published);
      for (const { row, result } of failed) await this.markFailed(row, result.reason);
      this.#published += published.length;
      this.#failed += failed.length;
      if (rows.length < batchSize || failed.length > 0) break;
    }
    await this.armDueTimer();
  }

  private async claimDue(limit: number): Promise<OutboxRow[]> {
    // Relaxed: a lease lost in a crash only lets another relay publish the row again (same msgId).
    const rows = await this.db.relaxedQuery(
      `update jetcel_outbox set lease_until = now() + (? * interval '1 millisecond'), attempts = attempts + 1
         where id in (
           select id from jetcel_outbox
           where published_at is null and not_before <= now() and (lease_until is null or lease_until < now())
           order by not_before limit ? for update skip locked)
         returning id, subject, payload, headers, not_before, attempts`,
      [this.options.leaseMs ?? 10_000, limit],
    );
    return rows.map((row) => ({
      id: String(row.id),
      subject: String(row.subject),
      payload: String(row.payload),
      headers: (row.headers ?? {}) as Record<string, string>,
      notBefore: toDate(row.not_before),
      attempts: Number(row.attempts),
    }));
  }

  private async markPublished(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // Relaxed: a mark lost in a crash means one more publish of the same msgId, which the claim absorbs.
    await this.db.relaxedQuery(
      'update jetcel_outbox set published_at = now(), lease_until = null where id = any(?::uuid[])',
      [ids],
    );
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
    await this.db.relaxedQuery(
      "update jetcel_outbox set lease_until = now() + (? * interval '1 millisecond'), last_error = ? where id = ?",
      [delayMs, String(reason).slice(0, 2000), row.id],
    );
  }

  /** Wakes the relay when the nearest future row comes due (poll intervals, backoffs, delays). */
  private async armDueTimer(): Promise<void> {
    const rows = await this.db.run((em) =>
      sql<{ wait_ms: number | null }>(
        em,
        `select extract(epoch from (min(greatest(not_before, coalesce(lease_until, not_before))) - now())) * 1000 as wait_ms
         from jetcel_outbox where published_at is null`,
      ),
    );
    const waitMs = rows[0]?.wait_ms;
    if (waitMs === null || waitMs === undefined) return;
    this.wakeAt(Date.now() + Math.ceil(Number(waitMs)));
  }
}

/**
 * Published marks, batched: one UPDATE in flight at a time, carrying every id published meanwhile.
 * Under load a mark covers dozens of rows; alone, a row is marked at once.
 */
class MarkBatcher {
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
