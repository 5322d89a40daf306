import type { Json } from '@jetcel/core';
import { toUnavailable } from './errors.ts';
import type { CommittedOutboxRow } from './outbox-store.ts';
import type { EventRow } from './resource-patch.ts';
import type { StepRecord } from './records.ts';
import type { RelaxedPool } from './relaxed-pool.ts';
import { quoteIdent } from './sql.ts';
import { stepColumns, type NewStep } from './step-store.ts';
import { toPassed, type Passed, type PassInput } from './throttle-store.ts';

/**
 * The next step, inserted already claimed by this worker. It has no message: if the worker dies,
 * the reconciler re-queues it once its claim expired, and publishes it then.
 */
export interface ClaimedNext {
  step: NewStep & { claim: NonNullable<NewStep['claim']> };
}

/** The step's resource in the commit: its patch by compare-and-set, or (no `set`) only its version read. */
export interface ResourceCommit {
  table: string;
  id: string;
  /** The version the step saw: a patch applies only to it. */
  version: number;
  /** Column → value (a JSON value for a jsonb column); absent: read the version only. */
  set?: Record<string, unknown>;
}

/**
 * A step done, committed by one statement: its result, its resource patch and events, and either
 * the next step claimed for this worker or (with `finish`) the end of its execution as succeeded.
 */
export interface StepCommit {
  stepId: string;
  token: string;
  result: Json | undefined;
  next: ClaimedNext | null;
  /** With no next step: the execution ends as succeeded (its success handler, or a plan without one, is done). */
  finish: boolean;
  resource: ResourceCommit | null;
  /** The resource's events (outbox rows, due now). */
  events: EventRow[];
  /** The step ends a throttled span: its slot is passed on in the same statement (`jetcel_commit_span_end`). */
  pass?: PassInput;
  /** With `pass`: first transitions planned for the waiters next in line; the one handed the slot is applied (m015). */
  successors?: SuccessorPlan[];
  /**
   * With `finish`: the success handler settled in this commit without running (its patch is in
   * `resource`), its step inserted as already succeeded, by `worker`.
   */
  settled?: { step: NewStep; worker: string | null };
}

/**
 * A waiter's first transition planned from its resource as read while the span's last task ran:
 * applied in the commit that hands it the slot if the resource is still at that version (no
 * `set`: the version only checked, the read snapshot still good).
 */
export interface SuccessorPlan {
  stepId: string;
  resource: ResourceCommit;
  /** The transition's events (outbox rows, due now). */
  events: EventRow[];
}

/**
 * `slow`: the execution is not simply running (a cancel, an end), a nested one would end, or the
 * resource changed since the step read it: commit through the stores instead. `version`: the
 * resource's version after the commit (null when no resource was named).
 */
export type StepCommitResult =
  | { kind: 'slow' }
  | { kind: 'claim_lost' }
  | {
      kind: 'committed';
      step: StepRecord | null;
      version: number | null;
      passed?: Passed;
      /** The planned successor the slot went to, its plan applied: its resource's version now, and when it was patched (null: not). */
      successor?: { stepId: string; version: number; modifiedAt: string | null };
    };

interface Pending {
  input: StepCommit;
  resolve: (result: StepCommitResult) => void;
  reject: (error: unknown) => void;
}

/** Commits that share one statement at most, and shared statements in flight at once (one connection each). */
const BATCH = 64;
const IN_FLIGHT = 2;

/**
 * Step commits done server-side (the functions of migrations m012 and m013), without an ORM transaction:
 * the commits that arrive while others are in flight share one statement, which is one
 * transaction and one durable COMMIT (group commit in a single round trip). If a shared statement
 * fails (a deadlock with another process), nothing of it committed and each commit runs alone.
 */
export class StepCommitter {
  readonly #queue: Pending[] = [];
  #inFlight = 0;

  /**
   * `handoff`: while it answers a lease, events due now are inserted leased to this process and
   * given to `committed` after COMMIT (as the stores' transactions hand theirs off).
   */
  constructor(
    private readonly pool: RelaxedPool,
    private readonly handoff: { leaseMs: () => number | null; committed: (rows: CommittedOutboxRow[]) => void } = {
      leaseMs: () => null,
      committed: () => undefined,
    },
  ) {}

  commit(input: StepCommit): Promise<StepCommitResult> {
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
    const leaseMs = this.handoff.leaseMs();
    try {
      const results = await this.#run(
        batch.map((entry) => entry.input),
        leaseMs,
      );
      const handedOff: CommittedOutboxRow[] = [];
      batch.forEach((entry, index) => {
        const result = results[index] ?? { kind: 'slow' };
        if (result.kind === 'committed') {
          const applied =
            result.successor && entry.input.successors?.find((plan) => plan.stepId === result.successor?.stepId);
          for (const event of [...entry.input.events, ...(applied?.resource.set ? applied.events : [])])
            handedOff.push({ ...event, headers: {}, notBefore: null, leased: leaseMs !== null });
        }
        entry.resolve(result);
      });
      if (handedOff.length > 0) this.handoff.committed(handedOff);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(toUnavailable(error));
        return;
      }
      await Promise.all(batch.map((entry) => this.#commit([entry])));
    }
  }

  async #run(inputs: StepCommit[], leaseMs: number | null): Promise<StepCommitResult[]> {
    const beside = versionReadsBeside(inputs);
    const rows = await this.pool.query<{ i: string; outcome: CommitOutcome; version: number | null }>(
      commitStatement(beside.tables),
      [
        ...beside.tables,
        JSON.stringify(inputs.map((input, index) => functionArgument(input, leaseMs, beside.inputs.has(index)))),
      ],
      { prepared: true },
    );
    const results: StepCommitResult[] = inputs.map(() => ({ kind: 'slow' }));
    for (const row of rows) {
      const { outcome } = row;
      const next = inputs[Number(row.i) - 1]?.next;
      results[Number(row.i) - 1] =
        outcome.kind === 'committed'
          ? {
              kind: 'committed',
              step: next && outcome.at ? insertedClaimedStep(next.step, new Date(outcome.at)) : null,
              version: outcome.version ?? row.version ?? null,
              ...(outcome.pass
                ? { passed: toPassed(outcome.pass.outcome, outcome.pass.step, outcome.pass.execution) }
                : {}),
              ...(outcome.pass?.successor ? { successor: toSuccessor(outcome.pass.successor) } : {}),
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
  /** The transaction's `now()`, answered to a `brief` caller (m024). */
  at?: string;
  version?: number | null;
  pass?: { outcome: string; step: unknown; execution: unknown; successor?: SuccessorOutcome | null };
}

interface SuccessorOutcome {
  step: string;
  version: number;
  modified_at: string | null;
}

function toSuccessor(outcome: SuccessorOutcome): { stepId: string; version: number; modifiedAt: string | null } {
  return {
    stepId: outcome.step,
    version: Number(outcome.version),
    modifiedAt: outcome.modified_at === null ? null : new Date(outcome.modified_at).toISOString(),
  };
}

/**
 * The row the commit inserted for `next`, built from what was sent and the transaction's time
 * `at` (the function's `now()`): the database decides nothing else of it (see m024).
 */
export function insertedClaimedStep(next: ClaimedNext['step'], at: Date): StepRecord {
  return {
    id: next.id,
    executionId: next.executionId,
    role: next.role,
    position: next.position,
    member: next.member ?? 0,
    task: next.task,
    queue: next.queue,
    args: next.args,
    resourceRef: next.resourceRef,
    before: next.before,
    ignoreErrors: next.ignoreErrors,
    throttled: next.throttled ?? false,
    status: 'running',
    attempts: 1,
    polls: 0,
    takeovers: 0,
    prepared: false,
    claimToken: next.claim.token,
    claimedUntil: new Date(at.getTime() + next.claim.ttlMs),
    worker: next.claim.worker,
    queuedAt: at,
    notBefore: at,
    startedAt: at,
    finishedAt: null,
    errorMessage: '',
    errorTraceback: '',
    result: null,
  };
}

/**
 * Commits whose resource version the batch's statement reads beside the function (m020): those
 * with no patch whose resource no other commit of the batch names, since the statement's read
 * does not see what the functions it calls write. The tables in a fixed order: the statement's
 * text, planned once per connection, depends on them.
 */
export function versionReadsBeside(inputs: StepCommit[]): { inputs: Set<number>; tables: string[] } {
  const named = new Map<string, number>();
  for (const input of inputs)
    for (const resource of [input.resource, ...(input.successors ?? []).map((plan) => plan.resource)])
      if (resource) named.set(resource.id, (named.get(resource.id) ?? 0) + 1);
  const marked = new Set<number>();
  const tables = new Set<string>();
  inputs.forEach(({ resource }, index) => {
    if (!resource || resource.set || named.get(resource.id) !== 1) return;
    marked.add(index);
    tables.add(resource.table);
  });
  return { inputs: marked, tables: [...tables].sort() };
}

/**
 * The batch's statement: each commit through its function, in input order, and for a commit
 * marked `read_beside` its resource's version read by key from its table (one `?` per table, then
 * the functions' arguments).
 */
function commitStatement(tables: string[]): string {
  const reads = tables
    .map((table) => `when ? then (select version from ${quoteIdent(table)} where id = (x.c->'resource'->>'id')::uuid)`)
    .join(' ');
  const version =
    tables.length === 0
      ? 'null::int'
      : `case when x.c->'resource'->>'read_beside' = 'true' then case x.c->'resource'->>'table' ${reads} end end`;
  return `select x.i, case when x.c->'pass' is null or x.c->'pass' = 'null'::jsonb
                   then jetcel_commit_step(x.c) else jetcel_commit_span_end(x.c) end as outcome, ${version} as version
          from jsonb_array_elements(?::jsonb) with ordinality as x(c, i)
          order by x.i`;
}

function functionArgument(input: StepCommit, leaseMs: number | null, readBeside: boolean): Record<string, unknown> {
  const { next, pass } = input;
  return {
    step: input.stepId,
    token: input.token,
    result: input.result ?? null,
    finish: next === null && input.finish,
    resource: readBeside && input.resource ? { ...input.resource, read_beside: true } : input.resource,
    events: leased(input.events, leaseMs),
    brief: true,
    next: next && {
      ...stepColumns(next.step),
      claim_token: next.step.claim.token,
      worker: next.step.claim.worker,
      ttl_ms: next.step.claim.ttlMs,
    },
    settled:
      next === null && input.finish && input.settled
        ? { ...stepColumns(input.settled.step), worker: input.settled.worker }
        : null,
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
          successors: (input.successors ?? []).map((plan) => ({
            step: plan.stepId,
            resource: plan.resource,
            events: leased(plan.events, leaseMs),
          })),
        }
      : null,
  };
}

/** Events as the commit function inserts them: leased to this process for its hand-off while it has a lease. */
function leased(events: EventRow[], leaseMs: number | null): Array<EventRow & { lease_ms?: number }> {
  return leaseMs === null ? events : events.map((event) => ({ ...event, lease_ms: leaseMs }));
}
