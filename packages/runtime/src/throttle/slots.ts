import { randomUUID } from 'node:crypto';
import { match } from 'ts-pattern';
import { BusError, type HeldLease, type Leases } from '@jetcel/bus';
import { leaseKey, parseLeaseKey } from '@jetcel/contracts';
import { TaskError, type Logger, type PlanThrottle } from '@jetcel/core';
import type { Db, EnterInput, ExecutionLease, ExecutionRecord, Passed, PassInput, StepRecord, Tx } from '@jetcel/db';
import { addStepMessage } from '../execution/step-messages.ts';
import { wakeParked } from './wake-parked.ts';
import { Semaphore } from './semaphore.ts';

export interface ThrottleConfig {
  /** Slots per scope unless `jetcel_throttle_limit` says otherwise. @defaultValue 4 */
  defaultLimit: number;
  /** Per-kind limits the executors declare (`throttle.limit`): a kind's default before `defaultLimit`. */
  declaredLimits?: ReadonlyMap<string, number>;
  /** How long an execution may wait for a slot before its step fails. @defaultValue 25 min */
  waitLimitMs: number;
  /** Fallback timer of a waiter; an ending span hands it the slot earlier. @defaultValue 5000 */
  recheckMs: number;
  /** The `LEASES` bucket's TTL: a slot whose holder has not renewed for this long is free on record. @defaultValue 60000 */
  leaseTtlMs: number;
}

export const DEFAULT_THROTTLE_CONFIG: ThrottleConfig = {
  defaultLimit: 4,
  waitLimitMs: 25 * 60_000,
  recheckMs: 5000,
  leaseTtlMs: 60_000,
};

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
  | { kind: 'wait'; delayMs: number; since: Date }
  | { kind: 'timeout'; waitedMs: number };

/** The end of a span, decided in its commit: the slot handed to a waiter whose step is claimed, or freed. */
export type SpanEnd =
  | {
      kind: 'handed';
      from: ExecutionLease;
      lease: ExecutionLease;
      claimed: { step: StepRecord; execution: ExecutionRecord };
    }
  | { kind: 'released'; from: ExecutionLease; executionId: string };

/** Admissions one worker runs at once (see `enter`). */
const ADMISSIONS_AT_ONCE = 4;

const held = (lease: ExecutionLease): HeldLease => ({ key: lease.key, revision: lease.revision });

/**
 * Throttled spans: which execution holds which slot of a scope is decided in PostgreSQL (one
 * statement per admission, one in the commit that ends a span); the slot's key in NATS KV is the
 * live lease, renewed at claims and heartbeats, and its revision the fencing token. Waiters queue
 * first-come in PostgreSQL and hold no worker slot.
 */
export class ThrottleGate {
  readonly #admitting = new Semaphore(ADMISSIONS_AT_ONCE);

  constructor(private readonly deps: { db: Db; leases: Leases; config: ThrottleConfig; logger: Logger }) {}

  /** Slots per scope where no limit is configured. */
  get defaultLimit(): number {
    return this.deps.config.defaultLimit;
  }

  /** A waiter's fallback timer. */
  get recheckMs(): number {
    return this.deps.config.recheckMs;
  }

  /** Slots per scope of a kind where no limit is configured: its declared limit, else the default. */
  defaultLimitFor(kind: string): number {
    return this.deps.config.declaredLimits?.get(kind) ?? this.deps.config.defaultLimit;
  }

  /**
   * Takes (or keeps) the execution's lease before a step of its span runs. At most a few
   * admissions run at once per worker: a burst of newcomers would otherwise take every pooled
   * connection and hold up the span ends that keep the slots busy.
   */
  async enter(
    execution: ExecutionRecord,
    stepId: string,
    throttle: PlanThrottle,
    claimToken: string,
    fallback?: EnterInput['fallback'],
  ): Promise<Admission> {
    await this.#admitting.acquire();
    try {
      return await this.admission(execution, stepId, throttle, claimToken, fallback);
    } finally {
      this.#admitting.release();
    }
  }

  private async admission(
    execution: ExecutionRecord,
    stepId: string,
    throttle: PlanThrottle,
    claimToken: string,
    fallback: EnterInput['fallback'],
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
    // One statement decides under the scope's lock: a slot on record, or a place in the queue with
    // the step queued again, so an ending span sees either the slot taken or the waiter ready to claim.
    const entered = await db.read((tx) =>
      tx.throttle.enter({
        kind: throttle.kind,
        scope: throttle.scope,
        executionId: execution.id,
        stepId,
        claimToken,
        defaultLimit: this.defaultLimitFor(throttle.kind),
        leaseTtlMs: config.leaseTtlMs,
        recheckMs: config.recheckMs,
        waitLimitMs: config.waitLimitMs,
        ...(fallback ? { fallback } : {}),
      }),
    );
    if (entered.kind === 'unthrottled') return entered;
    if (entered.kind === 'timeout') return { kind: 'timeout', waitedMs: Date.now() - entered.since.getTime() };
    if (entered.kind === 'wait') {
      const queued = entered.step;
      // The fallback timer: its message, published when due (a hand-over usually comes first).
      if (queued && !entered.parked)
        await db.leanTransaction(async (tx) => void addStepMessage(tx, queued, execution.actor, queued.notBefore));
      return { kind: 'wait', delayMs: entered.delayMs, since: entered.since };
    }
    const decided = { kind: 'slot' as const, slot: entered.slot };
    const key = leaseKey(throttle.kind, throttle.scope, decided.slot);
    const token = randomUUID();
    const taken = await leases.take(key, { executionId: execution.id, token });
    if (!taken) {
      await db.leanTransaction((tx) => tx.throttle.vacate(throttle.kind, throttle.scope, decided.slot, execution.id));
      throw new BusError(`Could not take the throttle lease ${key}`);
    }
    const lease: ExecutionLease = { kind: throttle.kind, scope: throttle.scope, key, revision: taken.revision, token };
    await db.leanTransaction((tx) => tx.throttle.admit(execution.id, lease), { relaxedDurability: true });
    return { kind: 'admitted', lease };
  }

  /** Renews by revision; a lost lease answers null (after checking the key: the holder decides nothing blind). */
  async renew(executionId: string, lease: ExecutionLease): Promise<ExecutionLease | null> {
    const renewed = await this.deps.leases.renew(held(lease), { executionId, token: lease.token });
    if (!renewed) return null;
    const next = { ...lease, revision: renewed.revision };
    await this.deps.db.leanTransaction((tx) => tx.throttle.renewed(executionId, slotOf(lease), next), {
      relaxedDurability: true,
    });
    return next;
  }

  /**
   * Beside a commit that ends a span: the holder renews its key (one compare-and-set, a new
   * revision). If the commit hands the slot on, that revision is the waiter's fencing token: newer
   * than any the ending holder's calls carried, and no one else can get the key (the slot is the
   * waiter's on record). Null when the lease was lost: the hand-over then moves the key first.
   */
  async bump(executionId: string, lease: ExecutionLease): Promise<ExecutionLease | null> {
    const renewed = await this.deps.leases
      .renew(held(lease), { executionId, token: lease.token })
      .catch((): null => null);
    return renewed ? { ...lease, revision: renewed.revision } : null;
  }

  /**
   * In the commit of a step that holds `lease`: once the span is over, its slot goes to the
   * longest waiter, whose step is claimed here with `token` in the same commit, or it is freed.
   * Null while the span goes on, or when the slot is no longer this execution's on record.
   */
  async endInCommit(
    tx: Tx,
    executionId: string,
    lease: ExecutionLease,
    claim: { token: string; worker: string; claimTtlMs: number },
  ): Promise<SpanEnd | null> {
    const input = this.passInput(executionId, lease, claim);
    return this.spanEnd(executionId, lease, input.lease, await tx.throttle.pass(input));
  }

  /** What the commit that may end a span passes to `jetcel_throttle_pass` (inside `jetcel_commit_span_end` too). */
  passInput(
    executionId: string,
    lease: ExecutionLease,
    claim: { token: string; worker: string; claimTtlMs: number },
  ): PassInput {
    return {
      kind: lease.kind,
      scope: lease.scope,
      slot: slotOf(lease),
      executionId,
      defaultLimit: this.defaultLimitFor(lease.kind),
      lease: { ...lease, token: claim.token },
      worker: claim.worker,
      claimTtlMs: claim.claimTtlMs,
    };
  }

  /** The span's end as that commit decided it: handed, released, or (null) not this commit's to end. */
  spanEnd(executionId: string, lease: ExecutionLease, next: ExecutionLease, passed: Passed): SpanEnd | null {
    return (
      match(passed)
        .with({ kind: 'handed' }, ({ step, execution }): SpanEnd => ({
          kind: 'handed',
          from: lease,
          lease: next,
          claimed: { step, execution },
        }))
        .with({ kind: 'released' }, (): SpanEnd => ({ kind: 'released', from: lease, executionId }))
        // Passed on before (or taken after it expired): its key is no longer this execution's to move.
        .with({ kind: 'held' }, { kind: 'not_held' }, () => null)
        .exhaustive()
    );
  }

  /**
   * After that commit, in KV: the slot's key moved to the waiter in one compare-and-set (taken
   * over if our lease was lost meanwhile: the slot is the waiter's on record), or released.
   * Answers the waiter's lease with its revision, null if released or not taken.
   */
  async afterEnd(end: SpanEnd): Promise<ExecutionLease | null> {
    const { leases } = this.deps;
    const from = end.from;
    if (end.kind === 'released') {
      await this.release(end.executionId, end.from);
      return null;
    }
    const holder = { executionId: end.claimed.execution.id, token: end.lease.token };
    const moved = (await leases.transfer(held(from), holder)) ?? (await leases.take(from.key, holder));
    return moved ? { ...end.lease, revision: moved.revision } : null;
  }

  /** Releases a lease in KV if its holder still has it; true if it was released now. */
  async release(executionId: string, lease: ExecutionLease): Promise<boolean> {
    return this.deps.leases.release(held(lease), { executionId, token: lease.token }).catch((error: unknown) => {
      this.deps.logger.warn('throttle lease release failed; it will expire', { key: lease.key, error: String(error) });
      return false;
    });
  }

  /**
   * Publishes the first parked waiters of a scope now, as many as it has room for, instead of at
   * their fallback timer (under the scope's lock, see `wakeParked`).
   */
  wake(kind: string, scope: string): Promise<void> {
    return wakeParked(this.deps.db, { kind, scope, declared: this.defaultLimitFor(kind) }, this.deps.logger);
  }

  /** Frees slots and leases of executions that have ended (a crash after the handler, a dead letter). */
  async reconcile(): Promise<number> {
    const { db, leases } = this.deps;
    let freed = 0;
    const scopes = new Map<string, { kind: string; scope: string }>();
    for (const vacated of await db.leanTransaction((tx) => tx.throttle.vacateEnded()))
      scopes.set(scopeKey(vacated.kind, vacated.scope), vacated);
    for (const entry of await leases.entries()) {
      const executionId = entry.holder?.executionId;
      const execution = executionId ? await db.leanTransaction((tx) => tx.executions.get(executionId)) : null;
      if (execution && (execution.status === 'running' || execution.status === 'cancel_requested')) continue;
      if (await leases.forceRelease(entry)) freed += 1;
    }
    for (const { kind, scope } of scopes.values()) await this.wake(kind, scope);
    return freed;
  }
}

/** The slot number of a lease's key. */
function slotOf(lease: ExecutionLease): number {
  const slot = parseLeaseKey(lease.key)?.slot;
  if (slot === undefined) throw new TypeError(`Not a throttle lease key: ${lease.key}`);
  return slot;
}

const scopeKey = (kind: string, scope: string): string => `${kind}\u0000${scope}`;
