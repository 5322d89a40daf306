import type { ExecutorDefinition, JsonObject, ResourceSnapshot } from '@jetcel/core';
import type { DomainEntityManager } from '@jetcel/db';
import type { BackgroundRequest, EnqueueResult } from '../background/enqueue.ts';
import type { CommandRecords, CommandResources } from '../command/commands.ts';
import type { ScheduleResult } from './schedule.ts';

// What the runtime gives an executor's preApply hook: what a command handler has in its transaction.
declare module '@jetcel/core' {
  interface PreApplyServices {
    /** The domain's resource tables (`applyPatch(resource, patch, { executionId, actor })`). */
    resources: CommandResources;
    records: CommandRecords;
    /** The domain's own entities in this unit of work. */
    em: DomainEntityManager;
    /**
     * Runs another executor's preApply and stores its execution in this transaction (not
     * authorized again: the hook decides, as a task's `schedule` does).
     */
    schedule<Q extends JsonObject>(
      executor: ExecutorDefinition<Q>,
      resource: ResourceSnapshot,
      params: Q,
    ): Promise<ScheduleResult>;
    /** Queues a background task with this transaction. */
    enqueue(request: BackgroundRequest): Promise<EnqueueResult>;
  }
}

export {};
