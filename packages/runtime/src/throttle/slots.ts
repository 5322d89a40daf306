import { randomUUID } from 'node:crypto';
import type { HeldLease, Leases } from '@jetcel/bus';
import { TaskError, type Logger, type PlanThrottle } from '@jetcel/core';
import type { Db, ExecutionLease, ExecutionRecord, Tx, Waiter } from '@jetcel/db';
import { addStepMessage } from '../execution/step-messages.ts';

export interface ThrottleConfig {
  /** Slots per scope unless `jetcel_throttle_limit` says otherwise. @defaultValue 4 */
  defaultLimit: number;
  /** Per-kind limits the executors declare (`throttle.limit`): a kind's default before `defaultLimit`. */
  declaredLimits?: ReadonlyMap<string, number>;
  /** How long an execution may wait for a slot before its step fails. @defaultValue 25 min */
  waitLimitMs: number;
  /** Fallback timer of a waiter; a release wakes it earlier. @defaultValue 5000 */
  recheckMs: number;
}

export const DEFAULT_THROTTLE_CONFIG: ThrottleConfig = { defaultLimit: 4, waitLimitMs: 25 * 60_000, recheckMs: 5000 };

/** The step waited longer than the configured limit for a free slot. */
export class ThrottleTimeoutError extends TaskError {
  constructor(throttle: PlanThrottle, waitedMs: number) {
    super(`Throttled: no free ${throttle.kind} slot in scope ${throttle.scope} after ${Math.round(waitedMs / 1000)} s`);
  }
}

/** The scope lease expired or was taken while the step ran: the step stops and retries. */
export class LeaseLostError extends TaskError {
  constructor(key: string) {
    super(`Lost the throttle lease ${key}; the step stops and will retry`, { retryable: true });
  }
}

export type Admission =
  | { kind: 'admitted'; lease: ExecutionLease }
  | { kind: 'unthrottled' }
  | { kind: 'wait'; delayMs: number; since: Date; fallbackRowId?: string }
  | { kind: 'timeout'; waitedMs: number };

/** A step this process sent back to wait: a slot freed here may go straight to it (the hand-over). */
export interface ParkedWaiter {
  executionId: string;
  stepId: string;
  since: Date;
  /** The outbox row of its fallback timer: a hand-over discards it. */
  fallbackRowId?: string;
}

/** Admissions one worker runs at once (see `enter`). */
const ADMISSIONS_AT_ONCE = 4;

/** A counting semaphore: first come, first served. */
class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }
}

/** Waiters woken at once when a scope is switched off. */
const WAKE_ALL = 1000;

/** Parked waiters kept per scope at most; older ones still wait in PostgreSQL and are woken from there. */
const MAX_PARKED_PER_SCOPE = 10_000;

const held = (lease: ExecutionLease): HeldLease => ({ key: lease.key, revision: lease.revision });

/**
 * Throttled spans: a lease per execution in NATS KV, renewed at claims and heartbeats,
 * released when the execution ends; waiters queue first-come in PostgreSQL and hold no worker slot.
 */
export class ThrottleGate {
  readonly #parked = new Map<string, ParkedWaiter[]>();
  readonly #admitting = new Semaphore(ADMISSIONS_AT_ONCE);

  constructor(private readonly deps: { db: Db; leases: Leases; config: ThrottleConfig; logger: Logger }) {}

  /** Slots per scope where no limit is configured. */
  get defaultLimit(): number {
    return this.deps.config.defaultLimit;
  }

  /** Slots per scope of a kind where no limit is configured: its declared limit, else the default. */
  defaultLimitFor(kind: string): number {
    return this.deps.config.declaredLimits?.get(kind) ?? this.deps.config.defaultLimit;
  }

  /** Remembers a step that waits for a slot of this scope (its message is acked; PostgreSQL keeps its place). */
  park(throttle: PlanThrottle, waiter: ParkedWaiter): void {
    const key = scopeKey(throttle.kind, throttle.scope);
    const list = this.#parked.get(key) ?? [];
    if (list.some((entry) => entry.stepId === waiter.stepId) || list.length >= MAX_PARKED_PER_SCOPE) return;
    list.push(waiter);
    list.sort((a, b) => a.since.getTime() - b.since.getTime());
    this.#parked.set(key, list);
  }

  /** The longest-waiting step parked here for this scope, taken off the list. */
  takeParked(kind: string, scope: string): ParkedWaiter | undefined {
    const key = scopeKey(kind, scope);
    const list = this.#parked.get(key);
    const next = list?.shift();
    if (list && list.length === 0) this.#parked.delete(key);
    return next;
  }

  /**
   * Hands the slot an ending span holds straight to a waiting execution (one compare-and-set in
   * KV; the slot is never free in between). Null when the lease was lost meanwhile.
   */
  async transfer(lease: ExecutionLease, toExecutionId: string): Promise<ExecutionLease | null> {
    const token = randomUUID();
    const moved = await this.deps.leases.transfer(held(lease), { executionId: toExecutionId, token });
    return moved ? { ...lease, revision: moved.revision, token } : null;
  }

  /**
   * Hands the slot to a waiter parked in another process: taken off the list, the slot moved to
   * it in KV and recorded on its execution (whose next claim then only renews it), its step
   * published now. False when it no longer waits; if our lease was lost meanwhile, the waiter is
   * still published, to be admitted the usual way.
   */
  async handTo(lease: ExecutionLease, waiter: Waiter): Promise<boolean> {
    // Whoever takes a waiter off the list gives it a slot: two ending spans never hand it one each.
    if (!(await this.deps.db.transaction((tx) => tx.throttle.take(waiter.executionId)))) return false;
    const moved = await this.transfer(lease, waiter.executionId);
    await this.deps.db.transaction(async (tx) => {
      if (moved) await tx.executions.setLease(waiter.executionId, moved);
      await wakeStep(tx, waiter.stepId);
    });
    return true;
  }

  /**
   * Takes (or keeps) the execution's lease before a step of its span runs. At most a few
   * admissions run at once per worker: a burst of newcomers would otherwise take every pooled
   * connection and hold up the hand-overs that keep the slots busy.
   */
  async enter(
    execution: ExecutionRecord,
    stepId: string,
    throttle: PlanThrottle,
    onWait?: (tx: Tx, delayMs: number) => Promise<string | void>,
  ): Promise<Admission> {
    await this.#admitting.acquire();
    try {
      return await this.admission(execution, stepId, throttle, onWait);
    } finally {
      this.#admitting.release();
    }
  }

  private async admission(
    execution: ExecutionRecord,
    stepId: string,
    throttle: PlanThrottle,
    onWait?: (tx: Tx, delayMs: number) => Promise<string | void>,
  ): Promise<Admission> {
    const { db, leases, config } = this.deps;
    if (execution.lease) {
      const renewed = await this.renew(execution.id, execution.lease);
      if (renewed) return { kind: 'admitted', lease: renewed };
      this.deps.logger.warn('throttle lease was lost between steps; taking a slot again', {
        executionId: execution.id,
        key: execution.lease.key,
      });
    }
    const holder = { executionId: execution.id, token: randomUUID() };
    const { limit, ahead } = await db.read(async (tx) => ({
      limit: await tx.throttle.limitFor(throttle.kind, throttle.scope, this.defaultLimitFor(throttle.kind)),
      ahead: await tx.throttle.ahead(throttle.kind, throttle.scope, execution.id),
    }));
    // A negative limit switches the throttle off for the scope (no lease, no waiting).
    if (limit < 0) return { kind: 'unthrottled' };
    // First come, first served: only as many as there are free slots beyond the older waiters
    // (with as many older waiters as slots, the slots need not even be read).
    const live = ahead < limit ? await leases.occupancy(throttle.kind, throttle.scope, limit) : [];
    const acquired =
      ahead < limit - live.length ? await leases.acquire(throttle.kind, throttle.scope, limit, holder, live) : null;
    const taken: ExecutionLease | null = acquired
      ? {
          kind: throttle.kind,
          scope: throttle.scope,
          key: acquired.key,
          revision: acquired.revision,
          token: holder.token,
        }
      : null;
    // One transaction decides, with the execution's row locked against an ending span that hands
    // it a slot meanwhile (`handTo` records the lease under the same lock): a handed slot wins.
    const decided = await db.transaction(async (tx): Promise<Admission | { kind: 'handed'; lease: ExecutionLease }> => {
      const recorded = await tx.executions.leaseForUpdate(execution.id);
      if (recorded && recorded.token !== execution.lease?.token && recorded.key !== taken?.key) {
        await tx.throttle.leave(execution.id);
        return { kind: 'handed', lease: recorded };
      }
      if (taken) {
        await tx.throttle.admit(execution.id, taken);
        return { kind: 'admitted', lease: taken };
      }
      const { since } = await tx.throttle.wait(throttle.kind, throttle.scope, execution.id, stepId);
      const waitedMs = Date.now() - since.getTime();
      if (waitedMs >= config.waitLimitMs) {
        await tx.throttle.leave(execution.id);
        return { kind: 'timeout', waitedMs };
      }
      const delayMs = Math.min(config.recheckMs, config.waitLimitMs - waitedMs + 50);
      const fallbackRowId = await onWait?.(tx, delayMs);
      return { kind: 'wait', delayMs, since, ...(fallbackRowId ? { fallbackRowId } : {}) };
    });
    if (decided.kind !== 'handed') return decided;
    // A slot acquired just now goes back: the handed one is this execution's.
    if (taken) await this.release(execution.id, taken);
    return this.admission({ ...execution, lease: decided.lease }, stepId, throttle, onWait);
  }

  /** Renews by revision; a lost lease answers null (after checking the key: the holder decides nothing blind). */
  async renew(executionId: string, lease: ExecutionLease): Promise<ExecutionLease | null> {
    const renewed = await this.deps.leases.renew(held(lease), { executionId, token: lease.token });
    if (!renewed) return null;
    const next = { ...lease, revision: renewed.revision };
    await this.deps.db.transaction((tx) => tx.executions.setLease(executionId, next), { relaxedDurability: true });
    return next;
  }

  /**
   * Releases an ended span's lease and wakes the first waiters of its scope. A lease already
   * handed over or released wakes nobody: its slot was not freed here.
   */
  async release(executionId: string, lease: ExecutionLease): Promise<boolean> {
    const released = await this.deps.leases
      .release(held(lease), { executionId, token: lease.token })
      .catch((error: unknown) => {
        this.deps.logger.warn('throttle lease release failed; it will expire', {
          key: lease.key,
          error: String(error),
        });
        return true;
      });
    if (released) await this.wake(lease.kind, lease.scope);
    return released;
  }

  /** Publishes the oldest waiters of a scope now instead of at their fallback timer. */
  async wake(kind: string, scope: string): Promise<void> {
    const { db } = this.deps;
    const { limit, waiters } = await db.read(async (tx) => {
      const limit = await tx.throttle.limitFor(kind, scope, this.defaultLimitFor(kind));
      // A scope switched off (negative limit) admits every waiter at its next claim.
      const waiters = limit === 0 ? [] : await tx.throttle.first(kind, scope, limit < 0 ? WAKE_ALL : limit);
      return { limit, waiters };
    });
    // Nobody waits (the common case without contention): no slot needs reading.
    if (waiters.length === 0) return;
    // Wake only as many waiters as there are free slots: the others would just wait again.
    const free =
      limit < 0 ? waiters.length : Math.max(0, limit - (await this.deps.leases.occupancy(kind, scope, limit)).length);
    if (free === 0) return;
    await db.transaction(async (tx) => {
      for (const waiter of waiters.slice(0, free)) await wakeStep(tx, waiter.stepId);
    });
  }

  /** Frees leases whose execution has ended (a crash after the handler, before the release). */
  async reconcile(): Promise<number> {
    const { db, leases } = this.deps;
    let freed = 0;
    for (const entry of await leases.entries()) {
      const executionId = entry.holder?.executionId;
      const execution = executionId ? await db.transaction((tx) => tx.executions.get(executionId)) : null;
      if (execution && (execution.status === 'running' || execution.status === 'cancel_requested')) continue;
      if (await leases.forceRelease(entry)) {
        freed += 1;
        if (execution?.lease) await this.wake(execution.lease.kind, execution.lease.scope);
      }
    }
    return freed;
  }
}

const scopeKey = (kind: string, scope: string): string => `${kind}\u0000${scope}`;

async function wakeStep(tx: Tx, stepId: string): Promise<void> {
  const step = await tx.steps.get(stepId);
  if (!step || step.status !== 'queued') return;
  const execution = await tx.executions.get(step.executionId);
  await tx.steps.dueNow(step.id);
  addStepMessage(tx, step, execution?.actor ?? null);
}
