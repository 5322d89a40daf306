import type { EntitySchema } from '@mikro-orm/core';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { silentLogger, type Logger, type ResourcePatch, type ResourceSnapshot } from '@jetcel/core';
import { FRAMEWORK_ENTITIES } from './entities/index.ts';
import { toUnavailable } from './errors.ts';
import { faultPoint, FAULT_POINTS } from './faults.ts';
import { GroupCommitter, type BatchWork, type Settled } from './group-commit.ts';
import { OutboxFlushSubscriber } from './outbox-flush.ts';
import { OutboxLedger } from './outbox-ledger.ts';
import type { CommittedOutboxRow } from './outbox-store.ts';
import { RelaxedPool, SESSION_OPTIONS } from './relaxed-pool.ts';
import {
  CLAIM_STEP_COLUMN_COUNT,
  CLAIM_STEP_SQL,
  claimStepParams,
  claimStepWithResourceSql,
  toClaimResult,
  type ClaimInput,
  type ClaimResult,
} from './step-store.ts';
import { toSnapshot } from './resource-store.ts';
import { discoverResourceTables, type ResourceTable } from './resource-types.ts';
import { quoteIdent, sql } from './sql.ts';
import { planResourceCommit, type PlannedResourceCommit, type WriteContext } from './resource-patch.ts';
import { StepCommitter, type StepCommit, type StepCommitResult } from './step-commits.ts';
import { ormSession, Tx, type AfterCommit } from './tx.ts';
import { LeanConnection, type FormatSql, type LeanClient } from './lean-transaction.ts';
import { EntityWrites } from './entity-writes.ts';

export interface DbOptions {
  url: string;
  /** The domain's entities (resources and records) beside jetcel's own tables. */
  entities?: EntitySchema[];
  poolMax?: number;
  /** Connections of the relaxed pool (claims, the relay's bookkeeping). @defaultValue 4 */
  relaxedPoolMax?: number;
  logger?: Logger;
}

export interface TransactionOptions {
  /** `synchronous_commit = off`: only for claims, never for a result commit. */
  relaxedDurability?: boolean;
}

/** Called after a root COMMIT with the outbox rows it committed (never with none). */
export type CommitListener = (rows: CommittedOutboxRow[]) => void;

/** jetcel's database: MikroORM on PostgreSQL, transactions seen through the stores of `Tx`. */
export class Db {
  readonly #group = new GroupCommitter(
    (work) => this.#plainTransaction(work),
    (works) => this.transactionBatch(works),
    // Four shared transactions in flight: a lone result never waits, a burst shares COMMITs
    // (executor path, quick bench: 2 → 4 kept the throughput gain and lost the latency cost).
    { concurrency: 4 },
  );

  readonly #listeners = new Set<CommitListener>();
  /** While set, rows due now are inserted leased to this process for that long (the hand-off). */
  #handoffLeaseMs: number | null = null;
  /** The hand-off lease as every transaction's outbox and the step commits read it. */
  readonly #leaseMs = (): number | null => this.#handoffLeaseMs;

  /** The outbox relay's bookkeeping: claims of due rows, published and failed marks. */
  readonly outbox: OutboxLedger;
  readonly #stepCommits: StepCommitter;

  readonly #outboxFlush = new OutboxFlushSubscriber((rows) => this.#committed(rows));
  /** Builds entity inserts for lean transactions (never runs a statement or holds an entity). */
  readonly #builder: EntityManager;
  readonly #format: FormatSql;
  /** The ORM's connection pool (knex's client), which lean transactions draw from. */
  readonly #ormPool: OrmPool;

  private constructor(
    readonly orm: MikroORM,
    private readonly tables: Map<string, ResourceTable>,
    private readonly relaxed: RelaxedPool,
    private readonly durable: RelaxedPool,
    private readonly logger: Logger,
  ) {
    this.#builder = orm.em.fork();
    const platform = orm.em.getPlatform();
    this.#format = (text, params) => platform.formatQuery(text, params);
    const knexClient: unknown = orm.em.getConnection().getKnex().client;
    this.#ormPool = knexClient as OrmPool;
    this.outbox = new OutboxLedger(relaxed, (fn) => this.run(fn));
    this.#stepCommits = new StepCommitter(durable, {
      leaseMs: this.#leaseMs,
      committed: (rows) => this.#committed(rows),
    });
    orm.em.getEventManager().registerSubscriber(this.#outboxFlush);
  }

  static async connect(options: DbOptions): Promise<Db> {
    const logger = options.logger ?? silentLogger;
    const entities = [...FRAMEWORK_ENTITIES, ...(options.entities ?? [])];
    const orm = await MikroORM.init({
      clientUrl: options.url,
      entities,
      discovery: { warnWhenNoEntities: false },
      pool: { min: 0, max: options.poolMax ?? 10 },
      driverOptions: { connection: { connectionTimeoutMillis: 5000, options: SESSION_OPTIONS } },
      allowGlobalContext: false,
      debug: false,
    });
    const tables = discoverResourceTables(orm.em.fork(), options.entities ?? []);
    const relaxed = new RelaxedPool(options.url, options.relaxedPoolMax ?? 4);
    // The step commits' own connections: plain statements, durable, no ORM transaction around them.
    const durable = new RelaxedPool(options.url, 2, { durable: true });
    return new Db(orm, tables, relaxed, durable, logger);
  }

  /**
   * Registers a listener run after every root COMMIT in this process that wrote outbox rows, with
   * those rows: the outbox relay publishes them from memory (the hand-off). With `handoffLeaseMs`,
   * rows due now are inserted leased to this process for that long, so no relay (here or in
   * another process) claims them meanwhile; if this process dies first, the lease runs out and
   * a sweep publishes them.
   */
  onCommit(listener: CommitListener, options: { handoffLeaseMs?: number } = {}): () => void {
    this.#listeners.add(listener);
    if (options.handoffLeaseMs !== undefined) this.#handoffLeaseMs = options.handoffLeaseMs;
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#handoffLeaseMs = null;
    };
  }

  /** After a root COMMIT: the rows it wrote go to the listeners; a listener never throws into the committer. */
  #committed(rows: CommittedOutboxRow[]): void {
    if (rows.length === 0) return;
    faultPoint(FAULT_POINTS.afterCommitBeforePublish);
    for (const listener of this.#listeners) {
      try {
        listener(rows);
      } catch (error) {
        this.logger.error('commit listener failed', { error: String(error) });
      }
    }
  }

  /**
   * Claims a step in one statement on the relaxed pool: a claim lost in a crash only lets
   * the step be claimed again, and every later write is guarded by the claim token.
   */
  async claimStep(stepId: string, input: ClaimInput, resourceRef?: string): Promise<ClaimResult> {
    const named = resourceRef ? this.#claimableResource(resourceRef) : null;
    // Prepared: the claim's planning cost more than its execution, and its plan looks rows up by key.
    if (!named)
      return toClaimResult(
        await this.relaxed.query(CLAIM_STEP_SQL, claimStepParams(stepId, input), { prepared: true }),
      );
    // The resource the message names, read by the claim's own statement: one round trip, not two.
    const { columns, rows } = await this.relaxed.queryArrays(
      claimStepWithResourceSql(quoteIdent(named.table.tableName)),
      [...claimStepParams(stepId, input), named.id],
    );
    const values = rows[0];
    const claim = toClaimResult(values ? [columnsOf(columns, values, 0, CLAIM_STEP_COLUMN_COUNT)] : []);
    if (claim.kind !== 'claimed' || !values || claim.step.resourceRef !== resourceRef) return claim;
    const row = columnsOf(columns, values, CLAIM_STEP_COLUMN_COUNT, columns.length);
    // No row: the resource is gone, and reading it as the step's preparation says so.
    return row.id === null ? claim : { ...claim, resource: toSnapshot(named.table, row) };
  }

  /** A message's resource reference whose table this process knows, with an id its key accepts. */
  #claimableResource(resourceRef: string): { table: ResourceTable; id: string } | null {
    const colon = resourceRef.indexOf(':');
    const table = colon > 0 ? this.tables.get(resourceRef.slice(0, colon)) : undefined;
    const id = resourceRef.slice(colon + 1);
    return table && UUID.test(id) ? { table, id } : null;
  }

  /**
   * A step done, in one statement and one durable COMMIT shared with the step commits in flight
   * beside it (see StepCommitter): `slow` when it must go through the stores.
   */
  commitStep(input: StepCommit): Promise<StepCommitResult> {
    return this.#stepCommits.commit(input);
  }

  /**
   * The resource part of a one-statement step commit against the snapshot the step saw: its
   * patch (null or empty: only its version is read), or null when only the stores apply it.
   */
  resourceCommit(
    current: ResourceSnapshot,
    patch: ResourcePatch | null,
    context: WriteContext,
  ): PlannedResourceCommit | null {
    const table = this.tables.get(current.type);
    return table ? planResourceCommit(table, current, patch, context) : null;
  }

  /** A unit of work for a task's own entities, flushed later in its step's commit (`Tx.flushEntities`). */
  entityWrites(): EntityWrites {
    return new EntityWrites(this.orm.em);
  }

  /** Reads through the stores outside any transaction: each statement on its own, no BEGIN or COMMIT. */
  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let callbacks: AfterCommit[] = [];
    const result = await this.run(async (em) => {
      const tx = new Tx(ormSession(em), this.tables, this.#leaseMs);
      const value = await fn(tx);
      callbacks = tx.takeAfterCommit();
      return value;
    });
    this.#afterCommitted(callbacks);
    return result;
  }

  resourceTypes(): string[] {
    return [...this.tables.keys()];
  }

  /**
   * Runs `fn` in one unit of work and transaction. Its outbox rows are inserted at each flush
   * (MikroORM's `onFlush`), with the entity changes made through `tx.entities`, and go to the
   * commit listeners in `afterTransactionCommit`: both commit, or neither does.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    let callbacks: AfterCommit[] = [];
    let result: T;
    try {
      result = await this.orm.em.fork().transactional(async (em) => {
        if (options.relaxedDurability) await sql(em, 'set local synchronous_commit = off');
        const tx = new Tx(ormSession(em), this.tables, this.#leaseMs);
        this.#outboxFlush.attach(em, tx.outbox);
        const value = await fn(tx);
        callbacks = tx.takeAfterCommit();
        return value;
      });
    } catch (error) {
      throw toUnavailable(error);
    }
    this.#afterCommitted(callbacks);
    return result;
  }

  /** A lone result commit of the hot path: the outbox rows in one plain insert just before COMMIT. */
  async #plainTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const rows: CommittedOutboxRow[] = [];
    let callbacks: AfterCommit[] = [];
    let result: T;
    try {
      result = await this.orm.em.fork().transactional(async (em) => {
        const tx = new Tx(ormSession(em), this.tables, this.#leaseMs);
        const value = await fn(tx);
        rows.push(...(await tx.outbox.flush()));
        callbacks = tx.takeAfterCommit();
        return value;
      });
    } catch (error) {
      throw toUnavailable(error);
    }
    this.#committed(rows);
    this.#afterCommitted(callbacks);
    return result;
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
    const rows: CommittedOutboxRow[] = [];
    const callbacks: AfterCommit[] = [];
    let settled: Settled[];
    try {
      settled = await this.orm.em.fork().transactional(async (em) => {
        const results: Settled[] = [];
        for (const work of works) {
          try {
            const value = await em.transactional(async (savepoint) => {
              const tx = new Tx(ormSession(savepoint), this.tables, this.#leaseMs);
              const result = await work(tx);
              // Pushed only once the savepoint is released: a rolled-back work hands nothing off.
              const written = await tx.outbox.flush();
              return { result, written, callbacks: tx.takeAfterCommit() };
            });
            rows.push(...value.written);
            callbacks.push(...value.callbacks);
            results.push({ ok: true, value: value.result });
          } catch (error) {
            results.push({ ok: false, error: toUnavailable(error) });
          }
        }
        return results;
      });
    } catch (error) {
      throw toUnavailable(error);
    }
    this.#committed(rows);
    this.#afterCommitted(callbacks);
    return settled;
  }

  /**
   * Runs `fn` in a transaction on a plain connection, with no unit of work (`tx.entities` throws
   * `NoUnitOfWorkError`): the stores only, BEGIN in the first statement's round trip, and none of
   * the ORM's transaction machinery. For work that writes through the stores alone, such as a
   * command that inserts a resource and schedules its executor, or the runtime's own bookkeeping
   * (claims, throttle slots). Outbox rows as in `transaction`: inserted before COMMIT, handed off
   * after it. `relaxedDurability` as in `transaction`, set in the first statement's round trip.
   */
  async leanTransaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const rows: CommittedOutboxRow[] = [];
    let callbacks: AfterCommit[] = [];
    let result: T;
    try {
      result = await this.#withOrmConnection(async (client, discard) => {
        const prelude = options.relaxedDurability ? ['set local synchronous_commit = off'] : [];
        const connection = new LeanConnection(client, this.#format, prelude);
        try {
          const session = { run: connection, build: this.#builder, unitOfWork: null };
          const tx = new Tx(session, this.tables, this.#leaseMs);
          const value = await fn(tx);
          const written = await tx.outbox.flush();
          await connection.commit();
          rows.push(...written);
          callbacks = tx.takeAfterCommit();
          return value;
        } catch (error) {
          if (!(await connection.rollback())) discard();
          throw error;
        }
      });
    } catch (error) {
      throw toUnavailable(error);
    }
    this.#committed(rows);
    this.#afterCommitted(callbacks);
    return result;
  }

  /** After COMMIT: what the transaction's work registered with `Tx.afterCommit`; a failure is logged, never thrown. */
  #afterCommitted(callbacks: AfterCommit[]): void {
    for (const callback of callbacks) {
      try {
        callback(this);
      } catch (error) {
        this.logger.warn('an after-commit callback failed', { error: String(error) });
      }
    }
  }

  /**
   * Runs `fn` on a connection of the ORM's own pool, held outside any ORM transaction: lean
   * transactions open no connections of their own. After `discard()`, the connection is closed.
   */
  async #withOrmConnection<T>(fn: (client: LeanClient, discard: () => void) => Promise<T>): Promise<T> {
    const pool = this.#ormPool;
    const client = await pool.acquireConnection();
    let discarded = false;
    try {
      return await fn(client, () => {
        discarded = true;
      });
    } finally {
      // An ended connection is marked disposed: the pool drops it instead of handing it out again.
      if (discarded) await client.end().catch(() => undefined);
      await pool.releaseConnection(client);
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

  async ping(): Promise<void> {
    await this.run((em) => sql(em, 'select 1'));
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    this.#handoffLeaseMs = null;
    await this.relaxed.end().catch(() => undefined);
    await this.durable.end().catch(() => undefined);
    await this.orm.close(true);
  }
}

/** What lean transactions use of the ORM's connection pool (knex's client). */
interface OrmPool {
  acquireConnection(): Promise<LeanClient & { end(): Promise<void> }>;
  releaseConnection(client: LeanClient): Promise<unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Columns `from`…`to` of an array row as an object. */
function columnsOf(columns: string[], values: unknown[], from: number, to: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let i = from; i < to; i++) row[columns[i] ?? String(i)] = values[i];
  return row;
}
