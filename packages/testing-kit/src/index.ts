export { startTestRuntime, TestRuntime, type TestRuntimeOptions } from './test-runtime.ts';
export type { ExecutionRun } from './execution-run.ts';
export { fakeResource, fakeResourceReader, fakeTaskContext } from './fake-task-context.ts';
export {
  REPOSITORY_ROOT,
  Stack,
  startStackParts,
  type ExecutionView,
  type StackOptions,
  type StackParts,
} from './stack.ts';
export { dataOf, type Reply } from './reply.ts';
