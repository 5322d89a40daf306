import { match } from 'ts-pattern';
import {
  continueAfterFailure,
  continueAfterSuccess,
  isGroup,
  type Continuation,
  type ExecutorRegistry,
  type FailureInfo,
  type Logger,
  type PlanNode,
  type StepCall,
} from '@jetcel/core';
import type { ExecutionRecord, NewExecution, StepRecord, Tx } from '@jetcel/db';
import { DEFAULT_THROTTLE_CONFIG } from '../throttle/slots.ts';
import { wakeParked, type ParkedScope } from '../throttle/wake-parked.ts';
import { stepLane } from './lane.ts';
import { failureInArgs, prepareStep, queueStep, type TaskCatalog } from './queue-step.ts';

export interface ProgressDeps {
  catalog: TaskCatalog;
  executors: Pick<ExecutorRegistry, 'get'>;
  logger: Logger;
  /** A step with more plan nodes than this ahead of it takes its queue's long lane. @defaultValue 8 */
  longPlanSteps?: number;
  /** A parked newcomer's fallback timer, as the workers' throttle `recheckMs`. @defaultValue 5000 */
  throttleRecheckMs?: number;
}

const CANCELLED: Pick<FailureInfo, 'message' | 'errorName'> = { message: 'cancelled', errorName: 'Cancelled' };

/**
 * Moves an execution forward inside the transaction that finished one of its steps: the next
 * node, a group's fan-in, the handlers, the end, the outer execution of a nested one, and cancel.
 * Callers hold the execution row's lock (`executions.lock`), so one execution's commits serialise.
 */
export class Progress {
  constructor(private readonly deps: ProgressDeps) {}

  /** The tasks' catalog, for what a step or a preApply hook queues. */
  get catalog(): TaskCatalog {
    return this.deps.catalog;
  }

  /**
   * Inserts a new execution with its first node queued: a single step goes in the execution's own
   * insert statement; a group is queued after it.
   */
  async createQueued(tx: Tx, execution: NewExecution, node: PlanNode): Promise<void> {
    if (isGroup(node)) return this.queueNode(tx, await tx.executions.create(execution), 0, node);
    await this.createManyQueued(tx, [{ execution, call: node }]);
  }

  /**
   * New executions whose first node is a single step: all of them with their steps in one insert
   * statement. Those that start a throttled span beyond their scope's room join its waiting list
   * in that statement, their message only a fallback timer (see `parkBeyondRoom`).
   */
  async createManyQueued(tx: Tx, firsts: { execution: NewExecution; call: StepCall }[]): Promise<void> {
    const places = await this.parkBeyondRoom(tx, firsts);
    const parkedUntil = new Date(Date.now() + (this.deps.throttleRecheckMs ?? DEFAULT_THROTTLE_CONFIG.recheckMs));
    const pending = firsts.map(({ execution, call }, index) => {
      const lane = stepLane(execution.plan, { role: 'main', position: 0 }, this.deps.longPlanSteps);
      const place = places[index];
      const input = { role: 'main' as const, position: 0, call, lane };
      return {
        execution,
        waiter: place && execution.plan.throttle,
        step: prepareStep(tx, this.deps.catalog, execution, place === 'parked' ? { ...input, parkedUntil } : input),
      };
    });
    const pairs = pending.map(({ execution, step, waiter }) => ({
      execution,
      step: step.row,
      ...(waiter ? { waiter } : {}),
    }));
    // Nobody reads the rows back (no local claim was offered): the insert may ride with COMMIT.
    if (!pending.some(({ step }) => step.needsRow)) return tx.executions.insertManyWithSteps(pairs);
    const created = await tx.executions.createManyWithSteps(pairs);
    for (const [index, { step }] of pending.entries()) {
      const inserted = created[index];
      if (inserted) step.inserted(inserted.step);
    }
  }

  /**
   * Where each new execution stands on its throttle's waiting list, before any worker sees it:
   * with a known limit, as many as the scope has room for are `due` (a worker admits them), the
   * rest `parked` (a span's end hands them a slot), all in input order; undefined for one that
   * does not start a throttled span, or whose scope has no limit known here (a worker decides).
   * So a burst of newcomers to a full scope costs no claim and no admission each. The room is read
   * without the scope's lock, so once the transaction commits, each scope with a newcomer parked
   * gets its first waiters woken if it has room after all (`wakeParked`).
   */
  private async parkBeyondRoom(
    tx: Tx,
    firsts: { execution: NewExecution; call: StepCall }[],
  ): Promise<Array<'due' | 'parked' | undefined>> {
    // Per scope: its room left, and the limit its executor declares (for the wake after COMMIT).
    const rooms = new Map<string, { room: number | null; declared: number | null }>();
    const parked = new Map<string, ParkedScope>();
    const places: Array<'due' | 'parked' | undefined> = [];
    for (const { execution, call } of firsts) {
      const throttle = execution.plan.throttle;
      if (!throttle || !call.throttled) {
        places.push(undefined);
        continue;
      }
      const key = `${throttle.kind}\u0000${throttle.scope}`;
      let seen = rooms.get(key);
      if (!seen) {
        const declared = this.deps.executors.get(execution.executor)?.throttle?.limit ?? null;
        seen = { room: await tx.throttle.room(throttle.kind, throttle.scope, declared), declared };
        rooms.set(key, seen);
      }
      const { room, declared } = seen;
      if (room === null) places.push(undefined);
      else {
        places.push(room > 0 ? 'due' : 'parked');
        seen.room = Math.max(0, room - 1);
        if (room === 0) parked.set(key, { kind: throttle.kind, scope: throttle.scope, declared });
      }
    }
    const logger = this.deps.logger;
    for (const scope of parked.values()) tx.afterCommit((db) => void wakeParked(db, scope, logger));
    return places;
  }

  /** Queues a chain node: one step, or every member of a group plus its fan-in row. */
  async queueNode(tx: Tx, execution: ExecutionRecord, position: number, node: PlanNode): Promise<void> {
    const lane = stepLane(execution.plan, { role: 'main', position }, this.deps.longPlanSteps);
    if (!isGroup(node)) {
      await queueStep(tx, this.deps.catalog, execution, { role: 'main', position, call: node, lane });
      return;
    }
    await tx.groups.create(execution.id, position, node.policy, node.group.length);
    for (const [member, call] of node.group.entries()) {
      await queueStep(tx, this.deps.catalog, execution, { role: 'main', position, member, call, lane });
    }
  }

  /** A step succeeded (or failed with ignoreErrors): count it into its group or continue the chain. */
  async stepSucceeded(tx: Tx, execution: ExecutionRecord, step: StepRecord): Promise<void> {
    if (execution.status === 'cancel_requested' && step.role === 'main') return this.settleCancel(tx, execution);
    if (step.role === 'main' && this.inGroup(execution, step.position)) {
      const group = await tx.groups.countDown(execution.id, step.position, 1);
      if (group.remaining > 0) return;
      if (group.failed) return this.fail(tx, execution, 'main', group.failure ?? unknownFailure());
    }
    // The next call of a failure chain gets the failure its first call was given.
    const carried = step.role === 'failure' ? failureInArgs(step.args) : undefined;
    await this.apply(tx, execution, continueAfterSuccess(execution.plan, step.role, step.position), carried);
  }

  /** A step failed for good. */
  async stepFailed(tx: Tx, execution: ExecutionRecord, step: StepRecord, failure: FailureInfo): Promise<void> {
    if (step.ignoreErrors) {
      this.deps.logger.info('step failure ignored', { stepId: step.id, error: failure.message });
      return this.stepSucceeded(tx, execution, step);
    }
    if (execution.status === 'cancel_requested') {
      if (step.role === 'failure') return this.finish(tx, execution, 'cancelled', failure);
      return this.settleCancel(tx, execution);
    }
    if (step.role === 'main' && this.inGroup(execution, step.position)) {
      await tx.groups.markFailed(execution.id, step.position, failure);
      const node = execution.plan.steps[step.position];
      const cancelled =
        node && isGroup(node) && node.policy === 'fail_fast'
          ? await tx.steps.cancelQueued(execution.id, { position: step.position, role: 'main' })
          : 0;
      const group = await tx.groups.countDown(execution.id, step.position, 1 + cancelled);
      if (group.remaining > 0) return;
      return this.fail(tx, execution, 'main', group.failure ?? failure);
    }
    return this.fail(tx, execution, step.role, failure);
  }

  /**
   * Cancel: queued steps are cancelled now, nested executions too; once no step is in
   * flight, the failure handler runs with the cancel's details.
   */
  async cancel(tx: Tx, execution: ExecutionRecord): Promise<void> {
    await tx.executions.requestCancel(execution.id);
    const cancelledExecution: ExecutionRecord = { ...execution, status: 'cancel_requested' };
    await tx.steps.cancelQueued(execution.id, { role: 'main' });
    await tx.throttle.leave(execution.id);
    for (const childId of await tx.executions.liveChildren(execution.id)) {
      const child = await tx.executions.lock(childId);
      if (child?.status === 'running') await this.cancel(tx, child);
    }
    await this.settleCancel(tx, cancelledExecution);
  }

  /** Under cancel: once nothing runs or waits, queue the failure handler (once) with the cancel details. */
  private async settleCancel(tx: Tx, execution: ExecutionRecord): Promise<void> {
    if ((await tx.steps.countByStatus(execution.id, ['running', 'waiting'], 'main')) > 0) return;
    if (await tx.steps.hasRole(execution.id, 'failure')) return;
    const started = await tx.executions.startedTasks(execution.id);
    const backendEffectStarted = started.some((task) => this.deps.catalog.get(task)?.sideEffects ?? true);
    const previous = execution.resourceBefore ?? { state: 'ERRED', errorMessage: '', errorTraceback: '' };
    const failure: FailureInfo = { ...CANCELLED, traceback: '', cancelled: { backendEffectStarted, previous } };
    await tx.executions.recordFailure(execution.id, failure);
    await this.apply(tx, execution, continueAfterFailure(execution.plan, 'main', true), failure);
  }

  private async fail(
    tx: Tx,
    execution: ExecutionRecord,
    role: StepRecord['role'],
    failure: FailureInfo,
  ): Promise<void> {
    // A failure inside the failure handler keeps the execution's first error (the step keeps its own).
    if (role !== 'failure') await tx.executions.recordFailure(execution.id, failure);
    await this.apply(tx, execution, continueAfterFailure(execution.plan, role), failure);
  }

  private async apply(tx: Tx, execution: ExecutionRecord, next: Continuation, failure?: FailureInfo): Promise<void> {
    await match(next)
      .with({ kind: 'queue_node' }, ({ position, node }) => this.queueNode(tx, execution, position, node))
      .with({ kind: 'queue_handler' }, async ({ role, position, call }) => {
        // The failure handler starts once, however many failures (a group's, a cancel's) ask for it.
        if (role === 'failure' && position === 0 && (await tx.steps.hasRole(execution.id, 'failure'))) return;
        await queueStep(tx, this.deps.catalog, execution, { role, position, call, ...(failure ? { failure } : {}) });
      })
      .with({ kind: 'finish' }, ({ status }) =>
        this.finish(
          tx,
          execution,
          execution.status === 'cancel_requested' && status === 'failed' ? 'cancelled' : status,
          failure,
        ),
      )
      .exhaustive();
  }

  /** Ends the execution; a nested one then finishes its outer step and moves the outer execution on. */
  async finish(
    tx: Tx,
    execution: ExecutionRecord,
    status: 'succeeded' | 'failed' | 'cancelled',
    failure?: FailureInfo,
  ): Promise<void> {
    await tx.throttle.leave(execution.id);
    const ended = await tx.executions.finish(
      execution.id,
      status === 'failed' && execution.status === 'cancel_requested' ? 'cancelled' : status,
    );
    if (!ended || !execution.parentStepId) return;
    const parentStep = await tx.steps.get(execution.parentStepId);
    if (!parentStep) return;
    const parent = await tx.executions.lock(parentStep.executionId);
    if (!parent) return;
    if (status === 'succeeded') {
      if (await tx.steps.finishWaiting(parentStep.id, 'succeeded')) await this.stepSucceeded(tx, parent, parentStep);
      return;
    }
    const recorded = await tx.executions.get(execution.id);
    const childFailure: FailureInfo = {
      message: recorded?.errorMessage || failure?.message || status,
      traceback: recorded?.errorTraceback || failure?.traceback || '',
      errorName: 'NestedExecutionFailed',
    };
    if (await tx.steps.finishWaiting(parentStep.id, 'failed', childFailure))
      await this.stepFailed(tx, parent, parentStep, childFailure);
  }

  private inGroup(execution: ExecutionRecord, position: number): boolean {
    const node = execution.plan.steps[position];
    return node !== undefined && isGroup(node);
  }
}

function unknownFailure(): FailureInfo {
  return { message: 'A group member failed', traceback: '', errorName: 'GroupFailed' };
}
