/** Per-task retry policy for transient errors. */
export interface RetryPolicy {
  /** Total attempts including the first. 1 means no retry. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** 0..1: the share of the delay that is randomised. */
  jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  multiplier: 2,
  jitter: 0.2,
};

export const NO_RETRY: RetryPolicy = { ...DEFAULT_RETRY, maxAttempts: 1 };

/** Delay before attempt `attempt + 1`, given that `attempt` (1-based) just failed. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter;
  // Jitter spreads retries out, but never past the policy's ceiling.
  return Math.min(policy.maxDelayMs, Math.max(0, Math.round(base - spread + random() * 2 * spread)));
}
