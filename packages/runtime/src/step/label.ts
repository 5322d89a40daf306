import type { StepRecord } from '@jetcel/db';

/** A step as people name it: `<role>:<position>.<member>` (member 0 unless it is in a group), e.g. `main:2.0`. */
export function stepLabel(step: Pick<StepRecord, 'role' | 'position' | 'member'>): string {
  return `${step.role}:${step.position}.${step.member}`;
}

/** What every log line of a running step carries beside its execution, step id, task and actor. */
export function stepContext(step: StepRecord): { step: string; resource: string | null; attempt: number } {
  return { step: stepLabel(step), resource: step.resourceRef, attempt: step.attempts };
}
