import type { Json } from '@jetcel/core';
import { toUnavailable } from './errors.ts';
import { toStepRecord, type StepRecord } from './records.ts';
import type { RelaxedPool } from './relaxed-pool.ts';
import type { NewStep } from './step-store.ts';
import { toPassed, type Passed, type PassInput } from './throttle-store.ts';

/** A step done with no patch, and the next step this worker claims, committed by one statement. */
export interface DoneAndClaimNext {
  stepId: string;
  token: string;
  result: Json | undefined;
  /** The step's own fallback row (it was claimed locally): moot once it commits. */
  fallbackRowId: string | null;
  next: NewStep & { claim: NonNullable<NewStep['claim']> };
  /** The next step's message, published only once its claim would have expired. */
  fallback: { id: string; subject: string; payload: string; headers: Record<string, string>; notBefore: Date };
  /** The step ends a throttled span: its slot is passed on in the same statement (`jetcel_commit_span_end`). */
  pass?: PassInput;
}

/** `slow`: the execution is not simply running (a cancel, an end): commit through the stores instead. */
export type DoneAndClaimNextResult =
  { kind: 'slow' } | { kind: 'claim_lost' } | { kind: 'committed'; step: StepRecord; passed?: Passed };

interface Pending {
  input: DoneAndClaimNext;
  resolve: (result: DoneAndClaimNextResult) => void;
  reject: (error: unknown) => void;
}

/** Commits that share one statement at most, and shared statements in flight at once (one connection each). */
const BATCH = 64;
const IN_FLIGHT = 2;

/**
 * Step commits done server-side (the function of migration m011), without an ORM transaction:
 * the commits that arrive while others are in flight share one statement, which is one
 * transaction and one durable COMMIT (group commit in a single round trip). If a shared statement
 * fails (a deadlock with another process), nothing of it committed and each commit runs alone.
 */
export class StepCommitter {
  readonly #queue: Pending[] = [];
  #inFlight = 0;

  constructor(private readonly pool: RelaxedPool) {}

  doneAndClaimNext(input: DoneAndClaimNext): Promise<DoneAndClaimNextResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < IN_FLIGHT && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, BATCH);
      this.#inFlight++;
      void this.#commit(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    try {
      const results = await this.#run(batch.map((entry) => entry.input));
      batch.forEach((entry, index) => entry.resolve(results[index] ?? { kind: 'slow' }));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(toUnavailable(error));
        return;
      }
      await Promise.all(batch.map((entry) => this.#commit([entry])));
    }
  }

  async #run(inputs: DoneAndClaimNext[]): Promise<DoneAndClaimNextResult[]> {
    const rows = await this.pool.query<{ i: number; outcome: CommitOutcome }>(
      `select x.i, case when x.pass is null
                        then jetcel_commit_step_done(x.step, x.token, x.result, x.fallback, x.next, x.message)
                        else jetcel_commit_span_end(x.step, x.token, x.result, x.fallback, x.next, x.message, x.pass) end as outcome
       from jsonb_to_recordset(?::jsonb) as x(i int, step uuid, token uuid, result jsonb, fallback uuid, next jsonb, message jsonb, pass jsonb)
       order by x.i`,
      [JSON.stringify(inputs.map((input, i) => ({ i, ...functionArguments(input) })))],
    );
    const results: DoneAndClaimNextResult[] = inputs.map(() => ({ kind: 'slow' }));
    for (const row of rows) {
      const { outcome } = row;
      results[row.i] =
        outcome.kind === 'committed' && outcome.step
          ? {
              kind: 'committed',
              step: toStepRecord(outcome.step),
              ...(outcome.pass
                ? { passed: toPassed(outcome.pass.outcome, outcome.pass.step, outcome.pass.execution) }
                : {}),
            }
          : outcome.kind === 'claim_lost'
            ? { kind: 'claim_lost' }
            : { kind: 'slow' };
    }
    return results;
  }
}

interface CommitOutcome {
  kind: string;
  step?: Record<string, unknown>;
  pass?: { outcome: string; step: unknown; execution: unknown };
}

function functionArguments(input: DoneAndClaimNext): Record<string, unknown> {
  const { next, fallback, pass } = input;
  return {
    step: input.stepId,
    token: input.token,
    result: input.result ?? null,
    fallback: input.fallbackRowId,
    next: {
      id: next.id,
      execution_id: next.executionId,
      role: next.role,
      position: next.position,
      member: next.member ?? 0,
      task: next.task,
      queue: next.queue,
      args: next.args,
      resource_ref: next.resourceRef,
      before: next.before,
      ignore_errors: next.ignoreErrors,
      throttled: next.throttled ?? false,
      claim_token: next.claim.token,
      worker: next.claim.worker,
      ttl_ms: next.claim.ttlMs,
    },
    message: { ...fallback, not_before: fallback.notBefore.toISOString() },
    pass: pass
      ? {
          kind: pass.kind,
          scope: pass.scope,
          slot: pass.slot,
          execution_id: pass.executionId,
          default_limit: pass.defaultLimit,
          lease: pass.lease,
          token: pass.lease.token,
          worker: pass.worker,
          claim_ttl_ms: pass.claimTtlMs,
        }
      : null,
  };
}
