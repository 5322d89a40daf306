import { BUILTIN_TASKS, CLEANUP_RELATED_TASK, type ExecutorRegistry, type Logger } from '@jetcel/core';
import type { StepRecord, Tx } from '@jetcel/db';
import { runCleanupStep } from './cleanup-related.ts';
import { runNestedExecutor } from './nested.ts';
import type { Progress } from './progress.ts';

/** A step the runtime runs itself, in one transaction, instead of running a task. */
export type RuntimeStep = (
  tx: Tx,
  progress: Progress,
  executors: Pick<ExecutorRegistry, 'get'>,
  step: StepRecord,
  token: string,
  log: Logger,
) => Promise<void>;

/** The steps the runtime runs itself, by task name: nested executors and cleanups. */
export const RUNTIME_STEPS: ReadonlyMap<string, RuntimeStep> = new Map<string, RuntimeStep>([
  [BUILTIN_TASKS.runExecutor, runNestedExecutor],
  [CLEANUP_RELATED_TASK, runCleanupStep],
]);
