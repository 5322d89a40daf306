import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntitySchema, EventSubscriber, TransactionEventArgs } from '@mikro-orm/core';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { silentLogger, type Logger } from '@jetcel/core';
import { FRAMEWORK_ENTITIES } from './entities/index.ts';
import { toUnavailable } from './errors.ts';
import { faultPoint, FAULT_POINTS } from './faults.ts';
import { GroupCommitter, type BatchWork, type Settled } from './group-commit.ts';
import { discoverResourceTables, type ResourceTable } from './resource-types.ts';
import { sql } from './sql.ts';
import { Tx } from './tx.ts';

export interface DbOptions {
  url: string;
  /** The domain's entities (resources and records) beside jetcel's own tables. */
  entities?: EntitySchema[];
  poolMax?: number;
  logger?: Logger;
}

export interface TransactionOptions {
  /** `synchronous_commit = off`: only for claims, never for a result commit. */
  relaxedDurability?: boolean;
}

type CommitListener = () => void;

// Commits made by the outbox relay itself must not kick the relay again (stack-notes P14).
const relayContext = new AsyncLocalStorage<boolean>();
export const runAsRelay = <T>(fn: () => Promise<T>): Promise<T> => relayContext.run(true, fn);

// How many outbox rows the current root transaction wrote: a commit without any has nothing to publish.
const outboxWrites = new AsyncLocalStorage<{ rows: number }>();

/** Calls the listeners after the root transaction's COMMIT; never throws into the committer (P15). */
class CommitSubscriber implements EventSubscriber {
  constructor(
    private readonly listeners: Set<CommitListener>,
    private readonly logger: Logger,
  ) {}
  afterTransactionCommit(_args: TransactionEventArgs): void {
    if (relayContext.getStore() || !outboxWrites.getStore()?.rows) return;
    faultPoint(FAULT_POINTS.afterCommitBeforePublish);
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error('commit listener failed', { error: String(error) });
      }
    }
  }
}

/** jetcel's database: MikroORM on PostgreSQL, transactions seen through the stores of `Tx`. */
export class Db {
  readonly #group = new GroupCommitter(
    (work) => this.transaction(work),
    (works) => this.transactionBatch(works),
  );

  private constructor(
    readonly orm: MikroORM,
    private readonly tables: Map<string, ResourceTable>,
    private readonly listeners: Set<CommitListener>,
  ) {}

  static async connect(options: DbOptions): Promise<Db> {
    const listeners = new Set<CommitListener>();
    const logger = options.logger ?? silentLogger;
    const entities = [...FRAMEWORK_ENTITIES, ...(options.entities ?? [])];
    const orm = await MikroORM.init({
      clientUrl: options.url,
      entities,
      discovery: { warnWhenNoEntities: false },
      subscribers: [new CommitSubscriber(listeners, logger)],
      pool: { min: 0, max: options.poolMax ?? 10 },
      driverOptions: { connection: { connectionTimeoutMillis: 5000 } },
      allowGlobalContext: false,
      debug: false,
    });
    const tables = discoverResourceTables(orm.em.fork(), options.entities ?? []);
    return new Db(orm, tables, listeners);
  }

  /** Registers a listener run after every root COMMIT in this process (the outbox relay's kick). */
  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  resourceTypes(): string[] {
    return [...this.tables.keys()];
  }

  /** Runs `fn` in one transaction; the outbox rows it added are inserted just before COMMIT. */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    try {
      const writes = { rows: 0 };
      return await outboxWrites.run(writes, () =>
        this.orm.em.fork().transactional(async (em) => {
          if (options.relaxedDurability) await sql(em, 'set local synchronous_commit = off');
          const tx = new Tx(em, this.tables);
          const result = await fn(tx);
          writes.rows += tx.outbox.pendingCount;
          await tx.outbox.flush();
          return result;
        }),
      );
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  /**
   * Like `transaction`, for a result commit on a hot path: while other such transactions are
   * committing, it waits and shares their next transaction and COMMIT (group commit), in its own
   * savepoint, so its failure rolls back only its own writes. Never relaxed: always durable.
   */
  groupTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#group.run(fn);
  }

  /**
   * Runs every work in its own savepoint of one transaction and commits once. A work that throws
   * is rolled back to its savepoint and settles with its error; the others commit. Throws only if
   * the shared transaction fails, in which case nothing committed.
   */
  async transactionBatch(works: BatchWork[]): Promise<Settled[]> {
    try {
      const writes = { rows: 0 };
      return await outboxWrites.run(writes, () =>
        this.orm.em.fork().transactional(async (em) => {
          const settled: Settled[] = [];
          for (const work of works) {
            try {
              const value = await em.transactional(async (savepoint) => {
                const tx = new Tx(savepoint, this.tables);
                const result = await work(tx);
                const rows = tx.outbox.pendingCount;
                await tx.outbox.flush();
                writes.rows += rows;
                return result;
              });
              settled.push({ ok: true, value });
            } catch (error) {
              settled.push({ ok: false, error: toUnavailable(error) });
            }
          }
          return settled;
        }),
      );
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  /** Runs `fn` outside any transaction (single statements, reads). */
  async run<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await fn(this.orm.em.fork());
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  /**
   * Runs `fn` in a transaction with `synchronous_commit = off`: for bookkeeping whose loss in a
   * crash only repeats work that is safe to repeat (the relay's leases and published marks: a row
   * published again carries the same message id, and the step's claim stops a second commit).
   */
  async runRelaxed<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.orm.em.fork().transactional(async (em) => {
        await sql(em, 'set local synchronous_commit = off');
        return fn(em);
      });
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  async ping(): Promise<void> {
    await this.run((em) => sql(em, 'select 1'));
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.orm.close(true);
  }
}
