import type { FailureInfo, Json, ResourcePatch, ResourceSnapshot, StepRole } from '@jetcel/core';
import type { ExecutionStatus } from './entities/execution.ts';
import { ClaimLostError } from './errors.ts';
import { toDate, toExecutionRecord, toStepRecord, type ExecutionRecord, type StepRecord } from './records.ts';
import { sql, storableText, valuesRows, type SqlRunner } from './sql.ts';

export interface NewStep {
  id: string;
  executionId: string;
  role: StepRole;
  position: number;
  member?: number;
  task: string;
  queue: string;
  args: Json | null;
  resourceRef: string | null;
  before: ResourcePatch | null;
  ignoreErrors: boolean;
  throttled?: boolean;
  notBefore: Date | null;
  /** Inserted already claimed (running) by this worker: the commit that queues it runs it next. */
  claim?: { token: string; worker: string; ttlMs: number };
}

/** Why a delivery may or may not run its step. */
export type ClaimResult =
  | {
      kind: 'claimed';
      step: StepRecord;
      execution: ExecutionRecord;
      takeover: boolean;
      /** The step's resource, read by the claim's statement when its message named it. */
      resource?: ResourceSnapshot;
    }
  | { kind: 'finished'; status: string }
  | { kind: 'live_claim'; claimedUntil: Date }
  | { kind: 'not_due'; notBefore: Date }
  | { kind: 'execution_inactive'; status: ExecutionStatus }
  | { kind: 'unknown_step' };

export interface ClaimInput {
  token: string;
  worker: string;
  ttlMs: number;
  /** How early a step may be claimed before its not_before (clock skew). @defaultValue 250 */
  skewMs?: number;
}

/**
 * The claim in one statement (one round trip): lock the step, decide, take it, and return the
 * step and its execution as they are after the claim. Run in a transaction or on its own.
 */
const CLAIM_STEP_CTE = `
  with current_step as (
    select s.id, s.status, s.role, s.claimed_until, s.not_before, s.execution_id,
           s.claimed_until < now() as expired,
           s.not_before <= now() + (? * interval '1 millisecond') as due,
           e.status as execution_status
    from jetcel_step s join jetcel_execution e on e.id = s.execution_id
    where s.id = ? for update of s
  ), claimed as (
    update jetcel_step s set status = 'running', claim_token = ?,
      claimed_until = now() + (? * interval '1 millisecond'), worker = ?,
      started_at = coalesce(s.started_at, now()),
      takeovers = s.takeovers + (case when c.status = 'running' then 1 else 0 end)
    from current_step c
    where s.id = c.id
      and ((c.status = 'queued' and c.due) or (c.status = 'running' and c.expired))
      -- A cancelled execution still runs its failure handler (compensation); nothing else starts.
      and (c.execution_status = 'running' or (c.execution_status = 'cancel_requested' and c.role = 'failure'))
    returning s.*
  )
`;

/** What the claim answers, before any further column (the resource row of `claimStepWithResourceSql`). */
const CLAIM_STEP_COLUMNS = `
  select c.status, c.role, c.claimed_until, c.not_before, c.expired, c.due, c.execution_status,
         (select row_to_json(claimed) from claimed) as step,
         (select row_to_json(e) from jetcel_execution e where e.id = c.execution_id) as execution`;

/** How many columns the claim answers ahead of a resource row's. */
export const CLAIM_STEP_COLUMN_COUNT = 9;

export const CLAIM_STEP_SQL = `${CLAIM_STEP_CTE}${CLAIM_STEP_COLUMNS}
  from current_step c`;

/**
 * The claim and, in the same statement, the row of the resource its message names (the last
 * parameter, after `claimStepParams`): the columns of `CLAIM_STEP_SQL`, then the row's own.
 */
export function claimStepWithResourceSql(quotedTable: string): string {
  return `${CLAIM_STEP_CTE}${CLAIM_STEP_COLUMNS}, r.*
  from current_step c left join ${quotedTable} r on r.id = ?`;
}

export function claimStepParams(stepId: string, input: ClaimInput): unknown[] {
  return [input.skewMs ?? 250, stepId, input.token, input.ttlMs, input.worker];
}

/** What the claim statement's row says: claimed, or why not. */
export function toClaimResult(rows: Array<Record<string, unknown>>): ClaimResult {
  const current = rows[0];
  if (!current) return { kind: 'unknown_step' };
  const status = String(current.status);
  const executionStatus = current.execution_status as ExecutionStatus;
  const step = current.step as Record<string, unknown> | null;
  const execution = current.execution as Record<string, unknown> | null;
  if (step && execution)
    return {
      kind: 'claimed',
      step: toStepRecord(step),
      execution: toExecutionRecord(execution),
      takeover: status === 'running',
    };
  if (status !== 'queued' && status !== 'running') return { kind: 'finished', status };
  if (status === 'running' && !current.expired)
    return { kind: 'live_claim', claimedUntil: toDate(current.claimed_until) };
  const live = executionStatus === 'running' || (executionStatus === 'cancel_requested' && current.role === 'failure');
  if (!live) return { kind: 'execution_inactive', status: executionStatus };
  return { kind: 'not_due', notBefore: toDate(current.not_before) };
}

/** The claim columns of an insert: all null for a queued step. */
function claimParams(claim: NewStep['claim']): unknown[] {
  const token = claim?.token ?? null;
  return [token, token, claim?.worker ?? null, token, claim?.ttlMs ?? 0, token];
}

const STEP_INSERT_HEAD = `insert into jetcel_step (id, execution_id, role, position, member, task, queue, args, resource_ref, before, ignore_errors, throttled, not_before,
         status, claim_token, worker, claimed_until, started_at)
       values `;

const STEP_INSERT_ROW = `(?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::jsonb, ?, ?, coalesce(?::timestamptz, now()),
         (case when ?::uuid is null then 'queued' else 'running' end)::step_status, ?::uuid, ?::text,
         case when ?::uuid is null then null else now() + (?::int * interval '1 millisecond') end,
         case when ?::uuid is null then null else now() end)`;

/** The insert of `rows` new step rows (queued, or already claimed with `claim`), without its `returning`. */
export function stepInsertSql(rows = 1): string {
  return STEP_INSERT_HEAD + valuesRows(STEP_INSERT_ROW, rows);
}

export function stepInsertParams(step: NewStep): unknown[] {
  return [
    step.id,
    step.executionId,
    step.role,
    step.position,
    step.member ?? 0,
    step.task,
    step.queue,
    step.args === null ? null : JSON.stringify(step.args),
    step.resourceRef,
    step.before === null ? null : JSON.stringify(step.before),
    step.ignoreErrors,
    step.throttled ?? false,
    step.notBefore?.toISOString() ?? null,
    ...claimParams(step.claim),
  ];
}

/** A new step row's columns, as the commit and schedule functions insert them. */
export function stepColumns(step: NewStep): Record<string, unknown> {
  return {
    id: step.id,
    role: step.role,
    position: step.position,
    member: step.member ?? 0,
    task: step.task,
    queue: step.queue,
    args: step.args,
    resource_ref: step.resourceRef,
    before: step.before,
    ignore_errors: step.ignoreErrors,
    throttled: step.throttled ?? false,
  };
}

/** A new step as `jetcel_schedule` inserts it (m021): the columns of `stepInsertParams`, by name. */
export function stepArgument(step: NewStep): Record<string, unknown> {
  return {
    ...stepColumns(step),
    execution_id: step.executionId,
    not_before: step.notBefore?.toISOString() ?? null,
    claim_token: step.claim?.token ?? null,
    worker: step.claim?.worker ?? null,
    ttl_ms: step.claim?.ttlMs ?? 0,
  };
}

export class StepStore {
  constructor(private readonly em: SqlRunner) {}

  async insert(step: NewStep): Promise<StepRecord> {
    const rows = await sql(this.em, `${stepInsertSql()} returning *`, stepInsertParams(step));
    const row = rows[0];
    if (!row) throw new Error(`Step ${step.id} was not inserted`);
    return toStepRecord(row);
  }

  async get(id: string): Promise<StepRecord | null> {
    const rows = await sql(this.em, 'select * from jetcel_step where id = ?', [id]);
    return rows[0] ? toStepRecord(rows[0]) : null;
  }

  /**
   * Claims a step before any side effect (compare-and-set with a fresh token). A queued step that
   * is due, or a running one whose claim expired (a takeover), is claimed; anything else says why not.
   */
  async claim(stepId: string, input: ClaimInput): Promise<ClaimResult> {
    return toClaimResult(await sql(this.em, CLAIM_STEP_SQL, claimStepParams(stepId, input)));
  }

  async markPrepared(stepId: string, token: string): Promise<void> {
    await this.guarded(
      stepId,
      token,
      "update jetcel_step set prepared = true where id = ? and claim_token = ? and status = 'running' returning id",
    );
  }

  /** Extends a live claim; answers whether the claim still holds and how its execution stands. */
  async extend(
    stepId: string,
    token: string,
    ttlMs: number,
  ): Promise<{ held: boolean; executionStatus: ExecutionStatus | null }> {
    const rows = await sql(
      this.em,
      `update jetcel_step s set claimed_until = now() + (? * interval '1 millisecond')
       from jetcel_execution e where e.id = s.execution_id and s.id = ? and s.claim_token = ? and s.status = 'running'
       returning e.status as execution_status`,
      [ttlMs, stepId, token],
    );
    const row = rows[0];
    return row
      ? { held: true, executionStatus: row.execution_status as ExecutionStatus }
      : { held: false, executionStatus: null };
  }

  /** Records the step's final result, guarded by the claim token (a stale holder fails here). */
  async complete(
    stepId: string,
    token: string,
    outcome: { status: 'succeeded' | 'failed' | 'cancelled'; result?: Json; failure?: FailureInfo },
  ): Promise<void> {
    await this.guarded(
      stepId,
      token,
      `update jetcel_step set status = ?, finished_at = now(), claim_token = null, claimed_until = null,
         result = ?::jsonb, error_message = ?, error_traceback = ?
       where id = ? and claim_token = ? and status = 'running' returning id`,
      [
        outcome.status,
        outcome.result === undefined ? null : JSON.stringify(outcome.result),
        storableText(outcome.failure?.message ?? ''),
        storableText(outcome.failure?.traceback ?? ''),
      ],
    );
  }

  /** Puts the step back in the queue for a later poll or retry; the caller writes the outbox timer. Returns the row. */
  async requeue(
    stepId: string,
    token: string,
    input: { notBefore: Date; attempt: boolean; poll: boolean; failure?: FailureInfo },
  ): Promise<StepRecord> {
    const [row] = await this.guarded(
      stepId,
      token,
      `update jetcel_step set status = 'queued', claim_token = null, claimed_until = null, not_before = ?,
         attempts = attempts + ?, polls = polls + ?, error_message = ?, error_traceback = ?
       where id = ? and claim_token = ? and status = 'running' returning *`,
      [
        input.notBefore.toISOString(),
        input.attempt ? 1 : 0,
        input.poll ? 1 : 0,
        storableText(input.failure?.message ?? ''),
        storableText(input.failure?.traceback ?? ''),
      ],
    );
    return toStepRecord(row ?? {});
  }

  /** Dead-lettered: nothing runs or re-publishes it until an operator re-drives it. */
  async markDead(stepId: string): Promise<void> {
    await sql(
      this.em,
      "update jetcel_step set status = 'dead', claim_token = null, claimed_until = null, finished_at = now() where id = ? and status in ('queued', 'running')",
      [stepId],
    );
  }

  /**
   * A dead-lettered step that can never run (its task is unknown) ends failed with its failure,
   * so the execution moves on and its dead letter can no longer be re-driven. Returns whether it was dead.
   */
  async failDead(stepId: string, failure: FailureInfo): Promise<boolean> {
    const rows = await sql(
      this.em,
      "update jetcel_step set status = 'failed', error_message = ?, error_traceback = ? where id = ? and status = 'dead' returning id",
      [storableText(failure.message), storableText(failure.traceback), stepId],
    );
    return rows.length > 0;
  }

  /** A re-drive: the dead step is queued again with a fresh crash budget. */
  async revive(stepId: string): Promise<StepRecord | null> {
    const rows = await sql(
      this.em,
      "update jetcel_step set status = 'queued', takeovers = 0, not_before = now(), finished_at = null where id = ? and status = 'dead' returning *",
      [stepId],
    );
    return rows[0] ? toStepRecord(rows[0]) : null;
  }

  /**
   * Queued steps that have been due for longer than `staleMs` with no delivery claiming them: their
   * message was lost. Their timer restarts now, and the caller re-publishes them with new ids.
   */
  async touchStaleQueued(staleMs: number, limit: number): Promise<StepRecord[]> {
    // m019: by an index scan, which marks the entries of earlier statuses dead once
    const rows = await sql(this.em, 'select * from jetcel_touch_stale_queued_steps(?, ?)', [staleMs, limit]);
    return rows.map(toStepRecord);
  }

  /** A deliberate hand-back (graceful shutdown): queued again at once; not a crash, not an attempt. */
  async handBack(stepId: string, token: string): Promise<void> {
    await this.guarded(
      stepId,
      token,
      `update jetcel_step set status = 'queued', claim_token = null, claimed_until = null, not_before = now()
       where id = ? and claim_token = ? and status = 'running' returning id`,
    );
  }

  /** A nested executor's step waits, unclaimed, for its child execution to finish. */
  async park(stepId: string, token: string, result: Json): Promise<void> {
    await this.guarded(
      stepId,
      token,
      `update jetcel_step set status = 'waiting', claim_token = null, claimed_until = null, result = ?::jsonb
       where id = ? and claim_token = ? and status = 'running' returning id`,
      [JSON.stringify(result)],
    );
  }

  /** Ends a waiting step with its child execution's outcome; false if it was not waiting. */
  async finishWaiting(stepId: string, status: 'succeeded' | 'failed', failure?: FailureInfo): Promise<boolean> {
    const rows = await sql(
      this.em,
      `update jetcel_step set status = ?, finished_at = now(), error_message = ?, error_traceback = ?
       where id = ? and status = 'waiting' returning id`,
      [status, storableText(failure?.message ?? ''), storableText(failure?.traceback ?? ''), stepId],
    );
    return rows.length === 1;
  }

  /** Cancels the queued steps of an execution (optionally of one group); returns how many. */
  async cancelQueued(executionId: string, options: { position?: number; role?: StepRole } = {}): Promise<number> {
    const clauses = ['execution_id = ?', "status = 'queued'"];
    const params: unknown[] = [executionId];
    if (options.position !== undefined) {
      clauses.push('position = ?');
      params.push(options.position);
    }
    if (options.role) {
      clauses.push('role = ?');
      params.push(options.role);
    }
    const rows = await sql(
      this.em,
      `update jetcel_step set status = 'cancelled', finished_at = now(), claim_token = null, claimed_until = null
       where ${clauses.join(' and ')} returning id`,
      params,
    );
    return rows.length;
  }

  /** Steps of an execution by status, e.g. how many are in flight (running or waiting). */
  async countByStatus(executionId: string, statuses: string[], role?: StepRole): Promise<number> {
    const rows = await sql<{ n: string }>(
      this.em,
      `select count(*) as n from jetcel_step where execution_id = ? and status in (${statuses.map(() => '?').join(', ')})${role ? ' and role = ?' : ''}`,
      [executionId, ...statuses, ...(role ? [role] : [])],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async hasRole(executionId: string, role: StepRole): Promise<boolean> {
    const rows = await sql(this.em, 'select 1 from jetcel_step where execution_id = ? and role = ? limit 1', [
      executionId,
      role,
    ]);
    return rows.length > 0;
  }

  /**
   * Running steps whose claim expired a while ago (their holder died and no delivery took over):
   * put back in the queue with the claim cleared, so the dead holder's late commit fails.
   */
  async requeueExpiredClaims(graceMs: number, limit: number): Promise<StepRecord[]> {
    // m019: by an index scan, which marks the entries of earlier statuses dead once
    const rows = await sql(this.em, 'select * from jetcel_requeue_expired_steps(?, ?)', [graceMs, limit]);
    return rows.map(toStepRecord);
  }

  private async guarded(
    stepId: string,
    token: string,
    text: string,
    leading: unknown[] = [],
  ): Promise<Array<Record<string, unknown>>> {
    const rows = await sql(this.em, text, [...leading, stepId, token]);
    if (rows.length === 0) throw new ClaimLostError(stepId);
    return rows;
  }
}
