import { THROTTLE_LIMIT } from './jetcel/domain.ts';
/** Sizes of a run: the full figures, or a quick run that finishes within two minutes. */
export interface BenchConfig {
  quick: boolean;
  rounds: number;
  taskPath: { n: number; latencyRate: number; latencyCount: number; publishWindow: number };
  /** `warmUp` executions run unmeasured before each system's phases (its worker starts for them). */
  executorPath: { n: number; warmUp: number; latencyRate: number; latencyCount: number; submitWindow: number };
  /** `warmUp` executions run unmeasured before each system's `n` (its workers start for its phase). */
  throttled: { n: number; warmUp: number; limit: number; taskMs: number; workers: number };
  resources: { first: number; total: number };
  /** One-step executions at `streamRate`, alone and then behind `chains` twenty-step executions on the same queue. */
  fairness: { chains: number; streamRate: number; streamCount: number };
  /** How long any one phase may take before the run fails. */
  phaseTimeoutMs: number;
}

export function benchConfig(quick: boolean): BenchConfig {
  return quick
    ? {
        quick,
        rounds: 3,
        taskPath: { n: 1000, latencyRate: 200, latencyCount: 200, publishWindow: 200 },
        executorPath: { n: 60, warmUp: 10, latencyRate: 50, latencyCount: 50, submitWindow: 16 },
        throttled: { n: 30, warmUp: 10, limit: THROTTLE_LIMIT, taskMs: 20, workers: 2 },
        resources: { first: 2000, total: 6000 },
        fairness: { chains: 100, streamRate: 10, streamCount: 30 },
        phaseTimeoutMs: 90_000,
      }
    : {
        quick,
        rounds: 3,
        taskPath: { n: 20_000, latencyRate: 200, latencyCount: 2000, publishWindow: 200 },
        executorPath: { n: 2000, warmUp: 200, latencyRate: 50, latencyCount: 500, submitWindow: 16 },
        throttled: { n: 200, warmUp: 200, limit: THROTTLE_LIMIT, taskMs: 20, workers: 2 },
        resources: { first: 50_000, total: 200_000 },
        fairness: { chains: 2000, streamRate: 10, streamCount: 200 },
        phaseTimeoutMs: 600_000,
      };
}
