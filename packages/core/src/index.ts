export {
  JetcelError,
  ValidationError,
  PayloadTooLargeError,
  NotFoundError,
  UnknownSubjectError,
  InvalidStateError,
  IdempotencyConflictError,
  UnauthenticatedError,
  ForbiddenError,
  UnavailableError,
  RateLimitedError,
  TaskError,
  BackendError,
  TransientError,
  ResourceGoneError,
  PollLimitError,
} from './errors.ts';
export {
  RESOURCE_STATES,
  TRANSITIONS,
  IllegalTransitionError,
  applyTransition,
  canTransition,
  isResourceState,
  isTransitionName,
} from './states.ts';
export type { ResourceState, TransitionName, TransitionResult } from './states.ts';
export type { Json, JsonObject } from './json.ts';
export { definedJson } from './json.ts';
export type { Identity, AuthorizeHook } from './identity.ts';
export type { Logger } from './logger.ts';
export { silentLogger } from './logger.ts';
export type { RuntimeMetrics, StepOutcome } from './metrics.ts';
export { noopMetrics } from './metrics.ts';
export type { ResourcePatch, ResourceSnapshot, RelatedPatch, ResourceReader, FindOptions } from './resource.ts';
export { isEmptyPatch } from './resource.ts';
export { DEFAULT_RETRY, NO_RETRY, backoffDelay } from './retry.ts';
export type { RetryPolicy } from './retry.ts';
export { defineTask, done, doneWith, pollAgain, Task, taskFromClass } from './task.ts';
export { scheduleOf, ScheduleRefusedError } from './schedule-request.ts';
export type { OnRefused, ScheduleCallOptions, ScheduleRequest, ScheduleRequestOptions } from './schedule-request.ts';
export type {
  BackgroundEnqueue,
  DoneOutcome,
  TaskContext,
  TaskOutcome,
  TaskOptions,
  TaskDefinition,
  TaskClass,
  TaskThrottle,
  ArgsParser,
} from './task.ts';
export { TaskRegistry } from './registry.ts';
export { PLAN_VERSION, continueAfterSuccess, continueAfterFailure, isGroup } from './plan.ts';
export type {
  Plan,
  PlanThrottle,
  PlanNode,
  GroupNode,
  GroupPolicy,
  StepCall,
  StepRole,
  FailureInfo,
  CancelInfo,
  Continuation,
} from './plan.ts';
export { describeFailure, isRetryable, decideOnError, decideOnPoll } from './failure.ts';
export type { ErrorDecision, PollDecision } from './failure.ts';
export { defineExecutor, preApply, buildPlan, ExecutorRegistry } from './executor.ts';
export { handler } from './handler.ts';
export type { Handler } from './handler.ts';
export type { PreApplyContext, PreApplyServices } from './pre-apply-context.ts';
export { readPlan, UnknownPlanVersionError } from './stored-plan.ts';
export type { ExecutorDefinition, ExecutorKind, ExecutorInput, PreApply } from './executor.ts';
export {
  BUILTIN_TASKS,
  builtinTasks,
  transitionTask,
  setOkTask,
  setOkPatch,
  setErredTask,
  deleteResourceTask,
  runExecutorTask,
  runExecutorArgs,
  runExecutor,
  failurePatch,
  failureSchema,
} from './builtin-tasks.ts';
export { step, taskName, taskRef } from './step.ts';
export type { PlannedTask, StepOptions, TaskWithArgs } from './step.ts';
export { checkPlannedTasks, plannableTasks, UndeclaredTaskError, UnknownPlannedTaskError } from './planned-tasks.ts';
export type { MissingPlannedTask } from './planned-tasks.ts';
export { BUSY_STATES, WAIT_NOT_BUSY_TASK, waitNotBusyTask, waitUntilNotBusy } from './wait-not-busy.ts';
export type { WaitNotBusyArgs } from './wait-not-busy.ts';
export { CLEANUP_RELATED_TASK, cleanupRelatedArgs, cleanupRelatedTask } from './cleanup-task.ts';
export type { CleanupRelatedArgs } from './cleanup-task.ts';
export { CleanupCycleError, CleanupDependencyError, cleanupOrder, defineCleanupExecutor } from './cleanup.ts';
export type { CleanupExecutorDefinition, RelatedResources } from './cleanup.ts';
export { definePollRuntimeStateTask, judgeRuntimeState, runtimeStateOutcome } from './poll-runtime-state.ts';
export type {
  BackendReading,
  DeletedOutcome,
  PollRuntimeStateOptions,
  RuntimeStateRule,
  RuntimeStateVerdict,
} from './poll-runtime-state.ts';
export { defineBackendTasks } from './backend-tasks.ts';
export type {
  BackendCall,
  BackendGetter,
  BackendGetterName,
  BackendMethod,
  BackendMethodArgs,
  BackendMethodName,
  BackendTasks,
  BackendTasksOptions,
  PollRuntimeStateStep,
} from './backend-tasks.ts';
export { EQUALITY_SHORTHANDS, equalityPredicate, sameNameResourceAndArgs } from './equality.ts';
export type { BackgroundRunView, Equality, EqualityMode, EqualityPredicate } from './equality.ts';
export { declaredThrottleLimits, ThrottleLimitConflictError } from './throttle-limits.ts';
