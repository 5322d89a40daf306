/** How a run of a task ended, as the step-duration histogram labels it. */
export type StepOutcome = 'succeeded' | 'failed' | 'retried' | 'polled' | 'cancelled' | 'handed_back' | 'claim_lost';

/**
 * What the runtime reports as it works; an implementation turns it into metrics (see
 * @jetcel/telemetry). Every call is synchronous and cheap, and must never throw.
 */
export interface RuntimeMetrics {
  /** A command or query was answered; `code` is `OK` or the error code of the reply. */
  commandHandled(event: { subject: string; code: string; seconds: number }): void;
  /** A task begins to run (after its claim and throttle admission); `lagSeconds` since its message was published. */
  taskStarted(event: { task: string; queue: string; lagSeconds: number | null }): void;
  /** A task's run ended and its result was committed (or discarded). */
  taskFinished(event: { task: string; queue: string; outcome: StepOutcome; seconds: number }): void;
  /** A throttled step found every slot of its scope taken and went back to wait. */
  throttleWaited(event: { kind: string }): void;
  /** A request was dropped before any work: `no_reply`, or `reply_subject` (not an inbox). */
  requestRefused(event: { reason: string }): void;
}

export const noopMetrics: RuntimeMetrics = {
  commandHandled() {},
  taskStarted() {},
  taskFinished() {},
  throttleWaited() {},
  requestRefused() {},
};
