import { sql, sqlLater, type SqlRunner } from './sql.ts';
import {
  toDate,
  toExecutionRecord,
  toStepRecord,
  type ExecutionLease,
  type ExecutionRecord,
  type StepRecord,
} from './records.ts';

/** A scope's configured limit (its own row, else the kind's `*` row); bindings: kind, scope. */
const LIMIT_FOR_SQL = `select "limit" from jetcel_throttle_limit where kind = ? and scope in (?, '*') order by (scope = '*') limit 1`;

/** A waiter is ready when its step is queued and its execution running (by key, in queue order); bindings: kind, scope, count. */
const READY_WAITERS = `select w.execution_id, w.step_id, w.since from jetcel_throttle_waiter w
       where w.kind = ? and w.scope = ?
         and (select s.status from jetcel_step s where s.id = w.step_id) = 'queued'
         and (select e.status from jetcel_execution e where e.id = w.execution_id) = 'running'
       order by w.since, w.execution_id`;

// Each row by its key: joined, the planner may scan the whole step table once per waiter.
const NEXT_IN_LINE_SQL = `select (select row_to_json(s) from jetcel_step s where s.id = w.step_id) as step,
    (select e.actor from jetcel_execution e where e.id = w.execution_id) as actor
  from (${READY_WAITERS} limit ?) w
  order by w.since, w.execution_id`;

/** Waiters made due at once when a scope is switched off. */
const WAKE_ALL = 1000;

/** A scope's limit, its slots on record and its ready waiters (at most the limit); bindings: kind, scope, declared, kind, scope, kind, scope. */
const ROOM_SQL = `with l as (select coalesce((${LIMIT_FOR_SQL}), ?::int) as n)
  select l.n as "limit",
    (select count(*)::int from jetcel_throttle_slot t
       where t.kind = ? and t.scope = ? and t.execution_id is not null) as held,
    (select count(*)::int from (${READY_WAITERS} limit greatest(l.n, 0)) ready) as ready
  from l`;

export interface ThrottleLimitRow {
  kind: string;
  /** A scope id, or '*' for the kind's default. */
  scope: string;
  limit: number;
}

export interface EnterInput {
  kind: string;
  scope: string;
  executionId: string;
  stepId: string;
  /** The step's claim: a step that must wait goes back to the queue under it. */
  claimToken: string;
  defaultLimit: number;
  leaseTtlMs: number;
  recheckMs: number;
  waitLimitMs: number;
  /** The step's task message: a waiter's fallback timer, written by the same statement (`jetcel_throttle_enter_parked`). */
  fallback?: { id: string; subject: string; payload: string; headers: Record<string, string> };
}

/**
 * An admission's decision: a slot assigned on record; a place on the waiting list with the step
 * queued again (`step`, null if its claim was lost) for its fallback timer; past the wait limit
 * off the list; or no throttle.
 */
export type Entered =
  | { kind: 'admitted'; slot: number }
  | { kind: 'wait'; since: Date; delayMs: number; step: StepRecord | null; parked: boolean }
  | { kind: 'timeout'; since: Date }
  | { kind: 'unthrottled' };

export interface PassInput {
  kind: string;
  scope: string;
  slot: number;
  executionId: string;
  defaultLimit: number;
  /** What the waiter's execution records as its lease (its own token, the slot's key). */
  lease: ExecutionLease;
  worker: string;
  claimTtlMs: number;
}

/** The end of a span in its commit: the slot handed to a waiter (its step claimed), freed, or kept. */
export type Passed =
  | { kind: 'handed'; step: StepRecord; execution: ExecutionRecord }
  | { kind: 'released' }
  | { kind: 'not_held' }
  | { kind: 'held' };

/** `jetcel_throttle_pass`'s answer (also carried by the span-ending commit of `jetcel_commit_span_end`). */
export function toPassed(outcome: unknown, step: unknown, execution: unknown): Passed {
  if (outcome === 'handed' && step && execution)
    return {
      kind: 'handed',
      step: toStepRecord(step as Record<string, unknown>),
      execution: toExecutionRecord(execution as Record<string, unknown>),
    };
  if (outcome === 'released') return { kind: 'released' };
  if (outcome === 'not_held') return { kind: 'not_held' };
  return { kind: 'held' };
}

/** The scope's lock, as `jetcel_throttle_enter` takes it (alone) and a span end (shared); bindings: kind, scope. */
const LOCK_SCOPE_SQL = `select pg_advisory_xact_lock(hashtextextended('jetcel_throttle/' || ?::text || '/' || ?::text, 0))`;

/**
 * The first ready waiters of a scope, as many as its limit leaves room for beside the slots on
 * record (all of them for a scope switched off), those parked on a timer made due now: their
 * steps and who started them; bindings: kind, scope, declared, kind, scope, kind, scope.
 */
const WAKE_PARKED_SQL = `with l as (select coalesce((${LIMIT_FOR_SQL}), ?::int) as n),
  room as (select case when l.n is null then 0 when l.n < 0 then ${WAKE_ALL}
                       else greatest(l.n - (select count(*)::int from jetcel_throttle_slot t
                                            where t.kind = ? and t.scope = ? and t.execution_id is not null), 0) end as n
           from l),
  first as (${READY_WAITERS} limit (select n from room))
  update jetcel_step s set not_before = now()
    where s.id = any(array(select f.step_id from first f)) and s.status = 'queued' and s.not_before > now()
    returning row_to_json(s) as step, (select e.actor from jetcel_execution e where e.id = s.execution_id) as actor`;

/** The bindings of `ROOM_SQL` and `WAKE_PARKED_SQL`: the limit's lookup and default, then the scope twice. */
const limitAndScopeParams = (kind: string, scope: string, declared: number | null): unknown[] => [
  kind,
  scope,
  declared,
  kind,
  scope,
  kind,
  scope,
];

/** Throttle limits and the first-come waiting list of each (kind, scope). */
export class ThrottleStore {
  constructor(private readonly em: SqlRunner) {}

  /**
   * How many newcomers to a scope could take a slot now: its limit (its own row, else the kind's
   * `*` row, else `declared`) less the slots on record and the waiters ready ahead of them. Null
   * when no limit is known here, or the scope is switched off: every newcomer then goes to a worker.
   * Read without the scope's lock: once the schedule commits, `wakeParked` (under the lock) puts
   * right a stale answer.
   */
  async room(kind: string, scope: string, declared: number | null): Promise<number | null> {
    const rows = await sql<{ limit: number | null; held: number; ready: number }>(
      this.em,
      ROOM_SQL,
      limitAndScopeParams(kind, scope, declared),
    );
    const row = rows[0];
    if (!row || row.limit === null || row.limit < 0) return null;
    return Math.max(0, Number(row.limit) - Number(row.held) - Number(row.ready));
  }

  /**
   * Takes the scope's lock until the transaction ends, as an admission does: a span end of the
   * scope has committed before, or waits until this transaction has. Sent with the next statement.
   */
  async lockScope(kind: string, scope: string): Promise<void> {
    await sqlLater(this.em, LOCK_SCOPE_SQL, [kind, scope]);
  }

  /**
   * The first ready waiters of a scope, as many as it has room for (its limit, else `declared`,
   * less the slots on record), those parked on a fallback timer made due now: their steps and
   * who started them, for their messages. Under `lockScope`, so no span end of the scope is
   * deciding meanwhile.
   */
  async wakeParked(
    kind: string,
    scope: string,
    declared: number | null,
  ): Promise<Array<{ step: StepRecord; actor: string | null }>> {
    const rows = await sql<{ step: Record<string, unknown>; actor: string | null }>(
      this.em,
      WAKE_PARKED_SQL,
      limitAndScopeParams(kind, scope, declared),
    );
    return rows.map((row) => ({ step: toStepRecord(row.step), actor: row.actor }));
  }

  /** Every configured limit, by kind then scope. */
  async limits(): Promise<ThrottleLimitRow[]> {
    const rows = await sql<{ kind: string; scope: string; limit: number }>(
      this.em,
      'select kind, scope, "limit" from jetcel_throttle_limit order by kind, scope',
    );
    return rows.map((row) => ({ kind: row.kind, scope: row.scope, limit: Number(row.limit) }));
  }

  /** How many executions wait for a slot, per kind and scope. */
  async waiterCounts(): Promise<Array<{ kind: string; scope: string; waiting: number }>> {
    const rows = await sql<{ kind: string; scope: string; n: string }>(
      this.em,
      'select kind, scope, count(*) as n from jetcel_throttle_waiter group by kind, scope order by kind, scope',
    );
    return rows.map((row) => ({ kind: row.kind, scope: row.scope, waiting: Number(row.n) }));
  }

  async setLimit(kind: string, scope: string, limit: number): Promise<void> {
    await sql(
      this.em,
      `insert into jetcel_throttle_limit (kind, scope, "limit") values (?, ?, ?)
       on conflict (kind, scope) do update set "limit" = excluded."limit", updated_at = now()`,
      [kind, scope, limit],
    );
  }

  /** An admission in one statement: off the waiting list, the lease recorded on the execution. */
  async admit(executionId: string, lease: ExecutionLease): Promise<void> {
    await sql(
      this.em,
      `with left_list as (delete from jetcel_throttle_waiter where execution_id = ?)
       update jetcel_execution set lease = ?::jsonb, updated_at = now() where id = ?`,
      [executionId, JSON.stringify(lease), executionId],
    );
  }

  async leave(executionId: string): Promise<void> {
    await sql(this.em, 'delete from jetcel_throttle_waiter where execution_id = ?', [executionId]);
  }

  /**
   * Admission in one statement (`jetcel_throttle_enter`, under the scope's lock): a free slot
   * beyond the older live waiters is assigned to the execution, else it joins (or keeps its place
   * on) the waiting list. No lease is read: a full scope is known from the slot rows.
   */
  async enter(input: EnterInput): Promise<Entered> {
    const rows = await sql<{
      r_decision: string;
      r_slot: number | null;
      r_since: unknown;
      r_delay_ms: number | null;
      r_step: Record<string, unknown> | null;
    }>(
      this.em,
      input.fallback
        ? 'select * from jetcel_throttle_enter_parked(?, ?, ?::uuid, ?::uuid, ?::uuid, ?, ?, ?, ?, ?::jsonb)'
        : 'select * from jetcel_throttle_enter(?, ?, ?::uuid, ?::uuid, ?::uuid, ?, ?, ?, ?)',
      [
        input.kind,
        input.scope,
        input.executionId,
        input.stepId,
        input.claimToken,
        input.defaultLimit,
        input.leaseTtlMs,
        input.recheckMs,
        input.waitLimitMs,
        ...(input.fallback ? [JSON.stringify(input.fallback)] : []),
      ],
    );
    const row = rows[0];
    if (!row) throw new Error('jetcel_throttle_enter answered nothing');
    if (row.r_decision === 'unthrottled') return { kind: 'unthrottled' };
    if (row.r_decision === 'admitted') return { kind: 'admitted', slot: Number(row.r_slot) };
    if (row.r_decision === 'timeout') return { kind: 'timeout', since: toDate(row.r_since) };
    return {
      kind: 'wait',
      since: toDate(row.r_since),
      delayMs: Number(row.r_delay_ms),
      step: row.r_step ? toStepRecord(row.r_step) : null,
      parked: input.fallback !== undefined,
    };
  }

  /**
   * In the commit of a step whose execution holds slot `slot`: once its main chain has no step
   * left to run, the slot goes to the longest live waiter (its step claimed with `token` for
   * `worker`, `lease` recorded on its execution) or is freed (`jetcel_throttle_pass`).
   */
  async pass(input: PassInput): Promise<Passed> {
    const rows = await sql<{ r_outcome: string; r_step: Record<string, unknown> | null; r_execution: unknown }>(
      this.em,
      'select * from jetcel_throttle_pass(?, ?, ?, ?::uuid, ?, ?::jsonb, ?::uuid, ?, ?)',
      [
        input.kind,
        input.scope,
        input.slot,
        input.executionId,
        input.defaultLimit,
        JSON.stringify(input.lease),
        input.lease.token,
        input.worker,
        input.claimTtlMs,
      ],
    );
    const row = rows[0];
    return toPassed(row?.r_outcome, row?.r_step, row?.r_execution);
  }

  /** A renewed lease: recorded on the execution and its slot row (a live holder on record). */
  async renewed(executionId: string, slot: number, lease: ExecutionLease): Promise<void> {
    await sql(
      this.em,
      `with slot as (update jetcel_throttle_slot set renewed_at = now()
                     where kind = ? and scope = ? and slot = ? and execution_id = ?)
       update jetcel_execution set lease = ?::jsonb, updated_at = now() where id = ?`,
      [lease.kind, lease.scope, slot, executionId, JSON.stringify(lease), executionId],
    );
  }

  /** Gives a slot on record back (its lease could not be taken in KV). */
  async vacate(kind: string, scope: string, slot: number, executionId: string): Promise<void> {
    await sql(
      this.em,
      'update jetcel_throttle_slot set execution_id = null where kind = ? and scope = ? and slot = ? and execution_id = ?',
      [kind, scope, slot, executionId],
    );
  }

  /** Frees the slots on record of executions that have ended; answers the scopes freed. */
  async vacateEnded(): Promise<Array<{ kind: string; scope: string }>> {
    const rows = await sql<{ kind: string; scope: string }>(
      this.em,
      `update jetcel_throttle_slot t set execution_id = null from jetcel_execution e
       where e.id = t.execution_id and e.status not in ('running', 'cancel_requested')
       returning t.kind, t.scope`,
    );
    return rows.map((row) => ({ kind: row.kind, scope: row.scope }));
  }

  /** The first `count` ready waiters of a scope, in queue order: their steps and who started them. */
  async nextInLine(
    kind: string,
    scope: string,
    count: number,
  ): Promise<Array<{ step: StepRecord; actor: string | null }>> {
    const rows = await sql<{ step: Record<string, unknown>; actor: string | null }>(this.em, NEXT_IN_LINE_SQL, [
      kind,
      scope,
      count,
    ]);
    return rows.map((row) => ({ step: toStepRecord(row.step), actor: row.actor }));
  }
}
