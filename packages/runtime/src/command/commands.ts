import type { ArgsParser, ExecutorDefinition, JsonObject, ResourceSnapshot, ScheduleCallOptions } from '@jetcel/core';
import type { DomainEntityManager, ExecutionRecord, Tx } from '@jetcel/db';
import type { Authorizable, Caller } from './identity.ts';
import type { ReadAccess } from './read-policy.ts';
import type { ScheduleResult } from '../execution/schedule.ts';
import type { BackgroundRequest, EnqueueResult } from '../background/enqueue.ts';

/** A domain's resource tables: read (optionally locked), find, list, insert and patch, with their events. */
export type CommandResources = Pick<
  Tx['resources'],
  'get' | 'find' | 'list' | 'countByState' | 'insert' | 'insertMany' | 'applyPatch'
>;

/** A domain's record tables (plain rows, e.g. cloud settings), by table name. */
export interface CommandRecords {
  exists(table: string, id: string): Promise<boolean>;
  get(table: string, id: string): Promise<Record<string, unknown> | null>;
  /** False when a row with its key already exists (nothing is changed). */
  insert(table: string, row: Record<string, unknown>): Promise<boolean>;
}

/**
 * What a command handler may use, all inside the command's one transaction: the domain's resources
 * and records, its caller, the executor scheduler, cancel and background tasks. The framework's stores (outbox, steps,
 * throttle, …) are not in reach.
 */
export interface CommandContext {
  subject: string;
  /** The caller: a verified token's identity, or the anonymous caller the `allow` policy lets in. */
  identity: Caller;
  /** `identity.actor`: recorded on resources, executions, task messages and events. */
  actor: string;
  /** What the caller may read (the deployment's read policy): check, list filter, tracebacks. */
  read: ReadAccess;
  resources: CommandResources;
  records: CommandRecords;
  /**
   * The domain's own entities in this command's unit of work (`em.persist`, `em.flush`, `em.find`):
   * they commit with the executions the command schedules, or neither does. jetcel's tables are refused.
   */
  em: DomainEntityManager;
  /** Throws FORBIDDEN unless the `authorize` hook of the executor (or other action) lets the caller act on the resource. */
  authorize(action: Authorizable, resource: ResourceSnapshot): Promise<void>;
  /**
   * Authorizes (as `authorize`), runs preApply and stores the execution in this transaction.
   * `{ heavy: true }` routes this execution's steps to tasks.heavy.
   */
  schedule<P extends JsonObject>(
    executor: ExecutorDefinition<P>,
    resource: ResourceSnapshot,
    params: P,
    options?: ScheduleCallOptions,
  ): Promise<ScheduleResult>;
  /**
   * `schedule` for many resources of one executor: every item is authorized before anything is
   * written (one refusal refuses them all), then the executions go in together, with their first
   * steps in one statement. Results in the items' order.
   */
  scheduleMany<P extends JsonObject>(
    executor: ExecutorDefinition<P>,
    items: Array<{ resource: ResourceSnapshot; params: P }>,
    options?: ScheduleCallOptions,
  ): Promise<ScheduleResult[]>;
  /** Requests the cancel of a running execution. */
  cancel(executionId: string): Promise<ExecutionRecord>;
  /** Queues a background task with this transaction (skipped while an equal run is queued or running). */
  enqueue(request: BackgroundRequest): Promise<EnqueueResult>;
}

export interface CommandDefinition<I = unknown> {
  /** Full subject, built with commandSubject()/querySubject() from contracts. */
  subject: string;
  kind: 'command' | 'query';
  /** `admin`: an operator subject, FORBIDDEN to anyone else before its input is even parsed. */
  access?: 'admin';
  input: ArgsParser<I>;
  /**
   * The handler writes through `ctx.resources`, `ctx.records`, `ctx.schedule`, `ctx.scheduleMany`,
   * `ctx.cancel` and `ctx.enqueue` alone: its transaction is lean (`Db.leanTransaction`: no ORM
   * transaction, a create and its schedule in two round trips), and `ctx.em` throws.
   */
  lean?: boolean;
  handle(ctx: CommandContext, input: I): Promise<unknown>;
}

export function defineCommand<I>(definition: Omit<CommandDefinition<I>, 'kind'>): CommandDefinition<I> {
  return { ...definition, kind: 'command' };
}

export function defineQuery<I>(definition: Omit<CommandDefinition<I>, 'kind'>): CommandDefinition<I> {
  return { ...definition, kind: 'query' };
}

/** Marks an operator subject as an admin's alone (an anonymous development caller passes too). */
export function adminOnly<I>(definition: CommandDefinition<I>): CommandDefinition<I> {
  return { ...definition, access: 'admin' };
}
