// Test-only fault points: JETCEL_FAULT_POINT=<name> makes the process die there (SIGKILL).

export const FAULT_POINTS = {
  afterCommitBeforePublish: 'after-commit-before-publish',
  afterStepCommitBeforeAck: 'after-step-commit-before-ack',
  beforeBackendCall: 'before-backend-call',
  afterBackendCall: 'after-backend-call',
} as const;
export type FaultPoint = (typeof FAULT_POINTS)[keyof typeof FAULT_POINTS];

// Read once: a test names its fault in the environment of the process it starts, and every step
// passes these points, where reading `process.env` (a lookup in the C++ environment) showed in profiles.
const FAULT_POINT = process.env.JETCEL_FAULT_POINT;
const FAULT_MATCH = process.env.JETCEL_FAULT_MATCH;
const FAULT_PAUSE = process.env.JETCEL_FAULT_PAUSE ?? '';

/**
 * With JETCEL_FAULT_MATCH set, only a point whose context (e.g. "<task> <executionId>") contains
 * that text kills the process, so a test can aim at one step of one execution.
 */
export function faultPoint(name: FaultPoint, context = ''): void {
  if (FAULT_POINT === name && (!FAULT_MATCH || context.includes(FAULT_MATCH))) {
    process.stderr.write(`fault point ${name} reached: killing process ${process.pid}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}

/** Thrown at a fault point named by JETCEL_FAULT_THROW: the transaction around it rolls back. */
export class InjectedFaultError extends Error {
  readonly code = 'INJECTED_FAULT';
  constructor(point: string) {
    super(`injected fault at ${point}`);
    this.name = 'InjectedFaultError';
  }
}

/**
 * Test-only failure: JETCEL_FAULT_THROW=<name> makes the point throw, so a test shows what a
 * failure there leaves behind (inside a transaction: nothing).
 */
export function faultThrow(name: string): void {
  if (process.env.JETCEL_FAULT_THROW === name) throw new InjectedFaultError(name);
}

let paused = false;

/**
 * Test-only stall: JETCEL_FAULT_PAUSE=<name>:<ms> blocks the whole process (event loop included,
 * like a long GC pause or a SIGSTOP) the first time the point is reached.
 */
export function faultPause(name: string): void {
  if (paused || FAULT_PAUSE === '') return;
  const [point, ms] = FAULT_PAUSE.split(':');
  if (point !== name || !ms) return;
  paused = true;
  process.stderr.write(`fault pause ${name}: blocking process ${process.pid} for ${ms} ms\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(ms));
  process.stderr.write(`fault pause ${name}: process ${process.pid} resumes\n`);
}
