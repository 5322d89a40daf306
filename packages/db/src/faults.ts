// Test-only fault points: JETCEL_FAULT_POINT=<name> makes the process die there (SIGKILL).

export const FAULT_POINTS = {
  afterCommitBeforePublish: 'after-commit-before-publish',
  afterStepCommitBeforeAck: 'after-step-commit-before-ack',
  beforeBackendCall: 'before-backend-call',
  afterBackendCall: 'after-backend-call',
} as const;
export type FaultPoint = (typeof FAULT_POINTS)[keyof typeof FAULT_POINTS];

export function faultPoint(name: FaultPoint): void {
  if (process.env.JETCEL_FAULT_POINT === name) {
    process.stderr.write(`fault point ${name} reached: killing process ${process.pid}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
