import type { Heartbeats } from '@jetcel/bus';
import type { QueueName } from '@jetcel/contracts';
import type { ExecutorRegistry, Logger, RuntimeMetrics, TaskRegistry } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import type { ThrottleGate } from '../throttle/slots.ts';

/** Steps one slot runs in a row before the next goes through JetStream (fairness to other executions). */
export const DEFAULT_CHAIN_LIMIT = 32;

export interface StepRunnerOptions<S> {
  db: Db;
  registry: TaskRegistry<S>;
  /** Executors that plans may nest (a nested executor runs as a step of its parent). */
  executors?: Pick<ExecutorRegistry, 'get'>;
  services: S;
  logger: Logger;
  worker: string;
  /** Claim lifetime; heartbeats extend it. @defaultValue 30000 */
  claimTtlMs?: number;
  /** Heartbeat period for claims and broker. @defaultValue claimTtlMs / 3 */
  heartbeatMs?: number;
  /** The worker's heartbeat owner (one timer for every in-flight task); default: the runner's own. */
  heartbeats?: Heartbeats;
  /** How long to hand back a message naming a task this worker does not know. @defaultValue 30000 */
  unknownTaskDelayMs?: number;
  /** Throttled spans (scope leases); without it throttles are not enforced. */
  throttle?: ThrottleGate;
  /** Takeovers (a holder died mid-step) tolerated before the step is dead-lettered. @defaultValue 3 */
  crashBudget?: number;
  /** How long a task name or message version this worker does not know may wait for a newer worker. @defaultValue 10 min */
  unknownTaskGraceMs?: number;
  /** Where task starts, outcomes and throttle waits are reported. */
  metrics?: RuntimeMetrics;
  /** The queue this worker serves: a next step due now on it runs here at once. Unset: every step is published. */
  queue?: QueueName;
  /** Steps one slot runs in a row (the delivered one included) before the next goes through JetStream. @defaultValue 32 */
  chainLimit?: number;
  /** A step with more plan nodes than this ahead of it takes its queue's long lane. @defaultValue 8 */
  longPlanSteps?: number;
}
