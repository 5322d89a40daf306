// Shared by the group tests: a stack whose instance creates build three volumes as a group.
import { after, before } from 'node:test';
import { Stack } from './stack.ts';

export const volumes = [
  { name: 'data-1', size: 10 },
  { name: 'data-2', size: 20 },
  { name: 'data-3', size: 30 },
];

export interface StepRow {
  role: string;
  position: number;
  member: number;
  task: string;
  status: string;
  started_at: Date | null;
  finished_at: Date | null;
}

/** An executor and a regular worker for the enclosing file; `volumeStaggerMs` delays each member after the first. */
export function useGroupStack(volumeStaggerMs: number): { readonly stack: Stack } {
  const holder: { stack?: Stack } = {};
  before(async () => {
    holder.stack = await Stack.start({
      buildDelayMs: 100,
      env: { INSTANCE_VOLUME_STAGGER_MS: String(volumeStaggerMs) },
    });
    await holder.stack.spawn('executor');
    await holder.stack.spawn('worker', { queue: 'regular' });
  });
  after(async () => {
    await holder.stack?.stop();
  });
  return {
    get stack() {
      if (!holder.stack) throw new Error('useGroupStack: the stack is not started yet');
      return holder.stack;
    },
  };
}

export const stepsOf = (stack: Stack, executionId: string) =>
  stack.sql<StepRow>(
    'select role, position, member, task, status, started_at, finished_at from jetcel_step where execution_id = $1 order by position, member',
    [executionId],
  );
