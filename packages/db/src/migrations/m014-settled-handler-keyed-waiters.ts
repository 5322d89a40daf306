import type { SqlMigration } from '../migrate.ts';
import { stepCommitFunction } from './m011-step-commit-function.ts';
import { throttleSlots } from './m010-throttle-slots.ts';
import { rewritten } from './rewrite.ts';
import { stepCommitFunctionSql } from './step-commit-sql.ts';

const [, , throttleEnterSql = '', throttlePassSql = ''] = throttleSlots.up;

// A waiter is ready when its step is queued and its execution running. Joined, the planner may
// scan every queued step and running execution per waiter (statistics of young tables say one
// row each): 4–9 ms per span end with 100 waiters. Looked up by key per waiter, in queue order,
// it reads what it needs.
const READY_JOINS =
  /join jetcel_step s on s\.id = w\.step_id and s\.status = 'queued'\s+join jetcel_execution e on e\.id = w\.execution_id and e\.status = 'running'\s+where w\.kind = p_kind and w\.scope = p_scope/g;
const READY_BY_KEY = `where w.kind = p_kind and w.scope = p_scope
        and (select s.status from jetcel_step s where s.id = w.step_id) = 'queued'
        and (select e.status from jetcel_execution e where e.id = w.execution_id) = 'running'`;
const AHEAD_JOIN =
  /join jetcel_execution e on e\.id = w\.execution_id\s+where w\.kind = p_kind and w\.scope = p_scope and w\.execution_id <> p_execution and e\.status = 'running'/g;
const AHEAD_BY_KEY = `where w.kind = p_kind and w.scope = p_scope and w.execution_id <> p_execution
        and (select e.status from jetcel_execution e where e.id = w.execution_id) = 'running'`;

/**
 * The one-statement step commit learns to settle a success handler that only sets its resource OK
 * (`jetcel.set_ok`): the last main step's commit applies the handler's patch, inserts the handler's
 * step as already succeeded and ends the execution, one commit instead of two. The throttle's
 * admission and hand-over find ready waiters by key, in the order of an index. m011's `jetcel_commit_step_done`, unused
 * since m012, is dropped.
 */
export const settledHandlerKeyedWaiters: SqlMigration = {
  name: 'm014_settled_handler_keyed_waiters',
  up: [
    stepCommitFunctionSql({ settled: true }),
    rewritten('m014', throttleEnterSql, [
      [READY_JOINS, READY_BY_KEY, 1],
      [AHEAD_JOIN, AHEAD_BY_KEY, 1],
    ]),
    rewritten('m014', throttlePassSql, [[READY_JOINS, READY_BY_KEY, 1]]),
    // The queue's own order (since, then execution id): the first ready waiter is found by walking
    // the index, not by checking every waiter and sorting them.
    `create index "jetcel_throttle_waiter_order_index" on "jetcel_throttle_waiter" ("kind", "scope", "since", "execution_id")`,
    'drop index if exists "jetcel_throttle_waiter_queue_index"',
    'drop function if exists jetcel_commit_step_done(uuid, uuid, jsonb, uuid, jsonb, jsonb)',
  ],
  down: [
    `create index "jetcel_throttle_waiter_queue_index" on "jetcel_throttle_waiter" ("kind", "scope", "since")`,
    'drop index if exists "jetcel_throttle_waiter_order_index"',
    ...stepCommitFunction.up,
    stepCommitFunctionSql({ settled: false }),
    throttleEnterSql,
    throttlePassSql,
  ],
};
