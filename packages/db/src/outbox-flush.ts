import type { EntityManager, EventSubscriber, FlushEventArgs, TransactionEventArgs } from '@mikro-orm/core';
import { Outbox } from './entities/outbox.ts';
import type { CommittedOutboxRow, OutboxStore } from './outbox-store.ts';

/**
 * The outbox on MikroORM's own events: a transaction's publish intents become `Outbox` entities in
 * its unit of work at each flush (`onFlush`), so they commit with the domain's entity changes or not
 * at all, and the rows a root transaction committed go to `handOff` in `afterTransactionCommit`,
 * never before COMMIT. Savepoints fire neither transaction event; their rows ride the root's.
 */
export class OutboxFlushSubscriber implements EventSubscriber {
  /** The outbox of each open transaction's entity manager (the fork `em.transactional` hands out). */
  readonly #outboxes = new WeakMap<EntityManager, OutboxStore>();
  /** The rows each open transaction has flushed so far. */
  readonly #written = new WeakMap<EntityManager, CommittedOutboxRow[]>();

  constructor(
    private readonly handOff: (rows: CommittedOutboxRow[]) => void,
    /** While set, rows due now are inserted leased to this process for that long. */
    private readonly handoffLeaseMs: () => number | null,
  ) {}

  /** Makes `outbox` ride the flushes of the transaction bound to `em`. */
  attach(em: EntityManager, outbox: OutboxStore): void {
    this.#outboxes.set(em, outbox);
    this.#written.set(em, []);
  }

  onFlush({ em, uow }: FlushEventArgs): void {
    const outbox = this.#outboxes.get(em);
    const written = this.#written.get(em);
    if (!outbox || !written) return;
    const leaseMs = this.handoffLeaseMs();
    for (const row of outbox.takePending(leaseMs)) {
      const entity = em.create(Outbox, {
        id: row.id,
        subject: row.subject,
        payload: row.payload,
        headers: row.headers,
        // Undefined: the column's default, the database's now().
        ...(row.notBefore ? { notBefore: row.notBefore } : {}),
        ...(row.leased && leaseMs !== null ? { leaseUntil: new Date(Date.now() + leaseMs) } : {}),
      });
      // The change sets are already computed when onFlush runs: add this one to the same flush.
      uow.computeChangeSet(entity);
      written.push(row);
    }
  }

  afterTransactionCommit({ em }: TransactionEventArgs): void {
    const rows = this.#written.get(em);
    this.#forget(em);
    if (rows && rows.length > 0) this.handOff(rows);
  }

  afterTransactionRollback({ em }: TransactionEventArgs): void {
    this.#forget(em);
  }

  #forget(em: EntityManager): void {
    this.#outboxes.delete(em);
    this.#written.delete(em);
  }
}
