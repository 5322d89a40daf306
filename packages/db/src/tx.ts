import type { EntityManager } from '@mikro-orm/postgresql';
import { ExecutionStore } from './execution-store.ts';
import { OutboxStore } from './outbox-store.ts';
import { ResourceStore } from './resource-store.ts';
import type { ResourceTable } from './resource-types.ts';
import { StepStore } from './step-store.ts';
import { IdempotencyStore } from './idempotency-store.ts';
import { GroupStore } from './group-store.ts';
import { ThrottleStore } from './throttle-store.ts';
import { DeadLetterStore } from './dead-letter-store.ts';
import { BackgroundRunStore } from './background-run-store.ts';
import { BackgroundSlotStore } from './background-slot-store.ts';
import { ScheduleTickStore } from './schedule-tick-store.ts';
import { RetentionStore } from './retention-store.ts';
import { MetricsStore } from './metrics-store.ts';
import { sql, type SqlRunner } from './sql.ts';
import { domainEntityManager, type DomainEntityManager } from './entity-manager.ts';
import type { EntityWrites } from './entity-writes.ts';
import type { Db } from './db.ts';

/**
 * What a transaction runs on: `run` takes its statements; `build` builds an entity's own insert;
 * `unitOfWork` holds the domain's entities (null in a lean transaction, which has none).
 */
export interface TxSession {
  run: SqlRunner;
  build: EntityManager;
  unitOfWork: EntityManager | null;
}

/** An entity manager's session: its transaction (or none) runs the statements and holds the entities. */
export function ormSession(em: EntityManager): TxSession {
  return { run: em, build: em, unitOfWork: em };
}

/** A lean transaction has no unit of work: its work uses the stores only. */
export class NoUnitOfWorkError extends Error {
  readonly code = 'NO_UNIT_OF_WORK';
  constructor() {
    super('A lean transaction has no unit of work: use Db.transaction for entities');
    this.name = 'NoUnitOfWorkError';
  }
}

/**
 * A lean transaction's entity manager: handing it out is harmless (a context that spreads it),
 * using it throws `NoUnitOfWorkError`.
 */
const REFUSED_ENTITIES = new Proxy({} as DomainEntityManager, {
  get(_target, property) {
    // Not a use: promise checks and inspection.
    if (typeof property === 'symbol' || property === 'then') return undefined;
    throw new NoUnitOfWorkError();
  },
});

/** Work to run once a transaction has committed (`Tx.afterCommit`), on the database it committed to. */
export type AfterCommit = (db: Db) => void;

/** One database transaction seen through jetcel's stores. */
export class Tx {
  readonly outbox: OutboxStore;
  readonly resources: ResourceStore;
  readonly executions: ExecutionStore;
  readonly steps: StepStore;
  readonly idempotency: IdempotencyStore;
  readonly groups: GroupStore;
  readonly backgroundRuns: BackgroundRunStore;
  readonly backgroundSlots: BackgroundSlotStore;
  readonly scheduleTicks: ScheduleTickStore;
  readonly throttle: ThrottleStore;
  readonly deadLetters: DeadLetterStore;
  readonly retention: RetentionStore;
  readonly metrics: MetricsStore;
  #entities: DomainEntityManager | undefined;
  readonly #afterCommit: AfterCommit[] = [];

  /** `handoffLeaseMs`: the lease of rows this process hands off after COMMIT (see `Db.onCommit`). */
  readonly #session: TxSession;
  private readonly em: SqlRunner;

  /** `session`: an entity manager (its transaction, or none), or a lean transaction's (see `Db.leanTransaction`). */
  constructor(
    session: TxSession,
    tables: Map<string, ResourceTable>,
    handoffLeaseMs: () => number | null = () => null,
  ) {
    this.#session = session;
    const em = this.#session.run;
    this.em = em;
    this.outbox = new OutboxStore(em, handoffLeaseMs);
    this.resources = new ResourceStore(em, this.#session.build, tables, this.outbox);
    this.executions = new ExecutionStore(em, this.outbox);
    this.steps = new StepStore(em);
    this.idempotency = new IdempotencyStore(em);
    this.groups = new GroupStore(em);
    this.backgroundRuns = new BackgroundRunStore(em);
    this.backgroundSlots = new BackgroundSlotStore(em);
    this.scheduleTicks = new ScheduleTickStore(em);
    this.throttle = new ThrottleStore(em);
    this.deadLetters = new DeadLetterStore(em);
    this.retention = new RetentionStore(em);
    this.metrics = new MetricsStore(em);
  }

  /** The domain's entities in this transaction's unit of work (jetcel's own tables refused). */
  get entities(): DomainEntityManager {
    // Made on first use: the step path never needs it.
    const unitOfWork = this.#session.unitOfWork;
    this.#entities ??= unitOfWork ? domainEntityManager(unitOfWork) : REFUSED_ENTITIES;
    return this.#entities;
  }

  #unitOfWork(): EntityManager {
    if (!this.#session.unitOfWork) throw new NoUnitOfWorkError();
    return this.#session.unitOfWork;
  }

  /**
   * Runs `fn` once this transaction has committed, never if it rolls back (a savepoint's work: once
   * the savepoint is released and the transaction committed). Outside a transaction (`Db.read`),
   * once the work is done. `fn` gets the database it committed to, and handles its own failures
   * (the committer only logs them).
   */
  afterCommit(fn: AfterCommit): void {
    this.#afterCommit.push(fn);
  }

  /** What `afterCommit` registered so far, handed to the committer (and forgotten here). */
  takeAfterCommit(): AfterCommit[] {
    return this.#afterCommit.splice(0);
  }

  /** Flushes a task's unit of work in this transaction (in a savepoint: a refused write throws, the transaction goes on). */
  flushEntities(writes: EntityWrites): Promise<void> {
    return writes.flushInto(this.#unitOfWork());
  }

  /** Whether a row with this id exists in a registered record table (e.g. cloud settings). */
  async recordExists(tableName: string, id: string): Promise<boolean> {
    const rows = await sql(this.em, 'select 1 from ?? where id = ?', [tableName, id]);
    return rows.length > 0;
  }

  async recordGet(tableName: string, id: string): Promise<Record<string, unknown> | null> {
    const rows = await sql(this.em, 'select * from ?? where id = ?', [tableName, id]);
    return rows[0] ?? null;
  }

  /** Inserts a record row; false when a row with its key already exists (nothing is changed). */
  async recordInsert(tableName: string, row: Record<string, unknown>): Promise<boolean> {
    const columns = Object.keys(row);
    const inserted = await sql(
      this.em,
      `insert into ?? (${columns.map(() => '??').join(', ')}) values (${columns.map(() => '?').join(', ')}) on conflict do nothing returning 1 as inserted`,
      [tableName, ...columns, ...Object.values(row)],
    );
    return inserted.length === 1;
  }
}
