import type { FailureInfo, JsonObject, Plan } from '@jetcel/core';
import type { ExecutionStatus } from './entities/execution.ts';
import {
  toExecutionRecord,
  toStepRecord,
  type ExecutionLease,
  type ExecutionRecord,
  type StepRecord,
} from './records.ts';
import { sql, sqlLater, storableText, valuesRows, type SqlRunner } from './sql.ts';
import type { OutboxStore } from './outbox-store.ts';
import { stepArgument, type NewStep } from './step-store.ts';

/** An execution row to insert (`ExecutionStore.create`). */
export interface NewExecution {
  id: string;
  executor: string;
  resourceType: string;
  resourceId: string;
  plan: Plan;
  params: JsonObject;
  actor: string | null;
  parentStepId?: string | null;
  resourceBefore?: ExecutionRecord['resourceBefore'];
}

/** A new execution with its first step (`ExecutionStore.createManyWithSteps`); the step's executionId is the execution's. */
export interface NewExecutionWithStep {
  execution: NewExecution;
  step: NewStep;
  /** The execution joins its scope's waiting list in the same statement, in input order (see `ThrottleStore.room`). */
  waiter?: { kind: string; scope: string };
}

/** An execution and its first step as inserted. */
export interface CreatedExecution {
  execution: ExecutionRecord;
  step: StepRecord;
}

/** What the insert of executions with their steps answers: each table's new rows (null for none). */
interface InsertedRows {
  executions: Record<string, unknown>[] | null;
  steps: Record<string, unknown>[] | null;
}

/** The insert of `rows` new execution rows, without its `returning`. */
function executionInsertSql(rows = 1): string {
  return `insert into jetcel_execution (id, executor, resource_type, resource_id, plan, params, actor, parent_step_id, resource_before)
  values ${valuesRows('(?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?::jsonb)', rows)}`;
}

function executionInsertParams(input: NewExecution): unknown[] {
  return [
    input.id,
    input.executor,
    input.resourceType,
    input.resourceId,
    JSON.stringify(input.plan),
    JSON.stringify(input.params),
    input.actor,
    input.parentStepId ?? null,
    input.resourceBefore ? JSON.stringify(input.resourceBefore) : null,
  ];
}

/** An execution as `jetcel_schedule` inserts it (m021). */
function executionArgument(input: NewExecution): Record<string, unknown> {
  return {
    id: input.id,
    executor: input.executor,
    resource_type: input.resourceType,
    resource_id: input.resourceId,
    plan: input.plan,
    params: input.params,
    actor: input.actor,
    parent_step_id: input.parentStepId ?? null,
    resource_before: input.resourceBefore ?? null,
  };
}

export class ExecutionStore {
  constructor(
    private readonly em: SqlRunner,
    private readonly outbox: OutboxStore,
  ) {}

  async create(input: NewExecution): Promise<ExecutionRecord> {
    const rows = await sql(this.em, `${executionInsertSql()} returning *`, executionInsertParams(input));
    const row = rows[0];
    if (!row) throw new Error(`Execution ${input.id} was not inserted`);
    return toExecutionRecord(row);
  }

  /** An execution and its first step (queued, or claimed) in one statement: one round trip fewer for every schedule. */
  async createWithStep(input: NewExecution, step: NewStep): Promise<CreatedExecution> {
    const [created] = await this.createManyWithSteps([{ execution: input, step }]);
    if (!created) throw new Error(`Execution ${input.id} was not inserted`);
    return created;
  }

  /**
   * Executions with their first steps, all in one statement (a bulk beyond PostgreSQL's bind
   * parameter limit takes one more per slice). Answers in input order.
   */
  async createManyWithSteps(pairs: NewExecutionWithStep[]): Promise<CreatedExecution[]> {
    if (pairs.length === 0) return [];
    const created = new Map<string, CreatedExecution>();
    const [row] = await this.#schedule(pairs, (argument) =>
      sql<{ rows: InsertedRows }>(this.em, 'select jetcel_schedule(?::jsonb) as rows', [
        JSON.stringify({ ...argument, read_back: true }),
      ]),
    );
    const inserted = row?.rows;
    const steps = new Map((inserted?.steps ?? []).map(toStepRecord).map((step) => [step.executionId, step]));
    for (const execution of (inserted?.executions ?? []).map(toExecutionRecord)) {
      const step = steps.get(execution.id);
      if (step) created.set(execution.id, { execution, step });
    }
    return pairs.map(({ execution }) => {
      const found = created.get(execution.id);
      if (!found) throw new Error(`Execution ${execution.id} was not inserted`);
      return found;
    });
  }

  /**
   * `createManyWithSteps` when nobody reads the rows back: in a lean transaction the statement
   * rides in the round trip of the next one or of COMMIT (its error surfaces there).
   */
  async insertManyWithSteps(pairs: NewExecutionWithStep[]): Promise<void> {
    if (pairs.length === 0) return;
    // Reported by the next flush: if the statement fails later, the whole transaction does.
    await this.#schedule(pairs, (argument) =>
      sqlLater(this.em, 'select jetcel_schedule(?::jsonb)', [JSON.stringify(argument)]),
    );
  }

  /**
   * One call of `jetcel_schedule` (m021), whose inserts are planned once per connection: the
   * executions, their first steps, their places on a waiting list (in input order) and the
   * transaction's outbox rows so far, which the next flush reports once `send` succeeded (a
   * failure puts them back).
   */
  async #schedule<T>(
    pairs: NewExecutionWithStep[],
    send: (argument: Record<string, unknown>) => Promise<T>,
  ): Promise<T> {
    const outbox = this.outbox.pendingRows();
    const sent = send({
      executions: pairs.map(({ execution }) => executionArgument(execution)),
      steps: pairs.map(({ execution, step }) => stepArgument({ ...step, executionId: execution.id })),
      waiters: pairs.flatMap(({ execution, step, waiter }, place) =>
        waiter ? [{ execution_id: execution.id, step_id: step.id, kind: waiter.kind, scope: waiter.scope, place }] : [],
      ),
      outbox: outbox?.rows ?? [],
    });
    const result = await sent.catch((error: unknown) => {
      outbox?.failed();
      throw error;
    });
    outbox?.written();
    return result;
  }

  /** Reads the execution and locks it: commits of one execution's steps serialise on this row. */
  async lock(id: string): Promise<ExecutionRecord | null> {
    const rows = await sql(this.em, 'select * from jetcel_execution where id = ? for update', [id]);
    return rows[0] ? toExecutionRecord(rows[0]) : null;
  }

  /** The lease recorded on the execution, its row locked until the transaction ends. */
  async leaseForUpdate(id: string): Promise<ExecutionLease | null> {
    const rows = await sql<{ lease: ExecutionLease | null }>(
      this.em,
      'select lease from jetcel_execution where id = ? for update',
      [id],
    );
    return rows[0]?.lease ?? null;
  }

  /** Records (or clears) the scope lease the execution holds. */
  async setLease(id: string, lease: ExecutionLease | null): Promise<void> {
    await sql(this.em, 'update jetcel_execution set lease = ?::jsonb, updated_at = now() where id = ?', [
      lease ? JSON.stringify(lease) : null,
      id,
    ]);
  }

  /** Moves a running execution to cancel_requested. */
  async requestCancel(id: string): Promise<boolean> {
    const rows = await sql(
      this.em,
      "update jetcel_execution set status = 'cancel_requested', updated_at = now() where id = ? and status = 'running' returning id",
      [id],
    );
    return rows.length === 1;
  }

  /** Live executions nested in one of this execution's steps. */
  async liveChildren(id: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      this.em,
      `select c.id from jetcel_execution c join jetcel_step s on s.id = c.parent_step_id
       where s.execution_id = ? and c.status in ('running', 'cancel_requested')`,
      [id],
    );
    return rows.map((row) => row.id);
  }

  /** The executions nested in one step (a cleanup step starts one per related resource), oldest first. */
  async childrenOfStep(stepId: string): Promise<ExecutionRecord[]> {
    const rows = await sql(this.em, 'select * from jetcel_execution where parent_step_id = ? order by created_at', [
      stepId,
    ]);
    return rows.map(toExecutionRecord);
  }

  /** Task names of main steps that started, in this execution and every execution nested in it. */
  async startedTasks(id: string): Promise<string[]> {
    const rows = await sql<{ task: string }>(
      this.em,
      `with recursive tree(id) as (
         select ?::uuid
         union all
         select c.id from jetcel_execution c join jetcel_step s on s.id = c.parent_step_id join tree t on t.id = s.execution_id)
       select distinct s.task from jetcel_step s join tree t on t.id = s.execution_id
       where s.role = 'main' and s.started_at is not null`,
      [id],
    );
    return rows.map((row) => row.task);
  }

  async get(id: string): Promise<ExecutionRecord | null> {
    const rows = await sql(this.em, 'select * from jetcel_execution where id = ?', [id]);
    return rows[0] ? toExecutionRecord(rows[0]) : null;
  }

  /**
   * The newest executions matching the filter. `visibleTo`: only those whose actor it is, or (the
   * condition `ResourceStore.ownedByCondition` builds) whose resource it owns — before the limit.
   */
  async list(filter: {
    resourceType?: string;
    resourceId?: string;
    status?: ExecutionStatus;
    limit?: number;
    visibleTo?: { actor: string; owned: { text: string; params: unknown[] } | null };
  }): Promise<ExecutionRecord[]> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.visibleTo) {
      const { actor, owned } = filter.visibleTo;
      clauses.push(owned ? `(actor = ? or ${owned.text})` : 'actor = ?');
      params.push(actor, ...(owned?.params ?? []));
    }
    if (filter.resourceType) {
      clauses.push('resource_type = ?');
      params.push(filter.resourceType);
    }
    if (filter.resourceId) {
      clauses.push('resource_id = ?');
      params.push(filter.resourceId);
    }
    if (filter.status) {
      clauses.push('status = ?');
      params.push(filter.status);
    }
    params.push(filter.limit ?? 50);
    const where = clauses.length ? `where ${clauses.join(' and ')}` : '';
    const rows = await sql(
      this.em,
      `select * from jetcel_execution ${where} order by created_at desc, id limit ?`,
      params,
    );
    return rows.map(toExecutionRecord);
  }

  async steps(executionId: string): Promise<StepRecord[]> {
    const rows = await sql(
      this.em,
      "select * from jetcel_step where execution_id = ? order by queued_at, case role when 'main' then 0 else 1 end, position",
      [executionId],
    );
    return rows.map(toStepRecord);
  }

  /** Ends a live execution; a second finisher (or a finished one) changes nothing and gets false. */
  async finish(
    id: string,
    status: Exclude<ExecutionStatus, 'running' | 'cancel_requested'>,
    failure?: FailureInfo,
  ): Promise<boolean> {
    const rows = await sql(
      this.em,
      `update jetcel_execution set status = ?, finished_at = now(), updated_at = now(),
         error_message = coalesce(?, error_message), error_traceback = coalesce(?, error_traceback)
       where id = ? and status in ('running', 'cancel_requested') returning id`,
      [status, failure ? storableText(failure.message) : null, failure ? storableText(failure.traceback) : null, id],
    );
    return rows.length === 1;
  }

  /** Records the failure that sent the execution to its failure handler. */
  async recordFailure(id: string, failure: FailureInfo): Promise<void> {
    await sql(
      this.em,
      'update jetcel_execution set error_message = ?, error_traceback = ?, updated_at = now() where id = ?',
      [storableText(failure.message), storableText(failure.traceback), id],
    );
  }
}
