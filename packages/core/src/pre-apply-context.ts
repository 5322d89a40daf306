import type { ResourceSnapshot } from './resource.ts';

/**
 * What a command handler can do in its transaction, as an executor's `preApply` hook gets it. The
 * runtime declares the members (the domain's resources, records and entities, `schedule`,
 * `enqueue`); the framework's own stores are not among them.
 */
export interface PreApplyServices {
  /** Who asked: recorded on the execution, resources' events and task messages. */
  actor: string | null;
}

/**
 * The context of an executor's `preApply(ctx)` hook, run in the transaction that schedules the
 * execution, after the built-in state checks and transition: `resource` is the resource as they
 * left it, `executionId` the execution about to be stored.
 */
export interface PreApplyContext<P> extends PreApplyServices {
  resource: ResourceSnapshot;
  params: P;
  executor: string;
  executionId: string;
}
