import type { EntityManager } from '@mikro-orm/postgresql';
import { domainEntityManager, type DomainEntityManager } from './entity-manager.ts';

/**
 * A task's view of its entity manager: find, create, assign, persist and remove a domain's own
 * entities. No `flush`: the step's commit flushes the unit of work, so the writes commit with the
 * step's result or not at all.
 */
export type TaskEntityManager = Omit<DomainEntityManager, 'flush'>;

/**
 * The unit of work of one task run: a fork of the entity manager that the task reads and changes
 * outside any transaction, flushed later inside the step's commit transaction (`Tx.flushEntities`).
 */
export class EntityWrites {
  readonly #em: EntityManager;
  readonly view: TaskEntityManager;

  constructor(root: EntityManager) {
    this.#em = root.fork({ clear: true });
    const { flush: _flush, ...view } = domainEntityManager(this.#em);
    this.view = view;
  }

  /** Whether the unit of work holds anything to write (new, changed or removed entities). */
  get pending(): boolean {
    const uow = this.#em.getUnitOfWork();
    uow.computeChangeSets();
    return uow.getChangeSets().length > 0;
  }

  /**
   * Flushes the unit of work in the transaction of `tx` (its entity manager), inside a savepoint:
   * a write the database refuses rolls back alone and is thrown, the transaction stays usable.
   */
  async flushInto(tx: EntityManager): Promise<void> {
    await tx.transactional(async (savepoint) => {
      this.#em.setTransactionContext(savepoint.getTransactionContext());
      try {
        await this.#em.flush();
      } finally {
        this.#em.resetTransactionContext();
      }
    });
  }
}
