/** Timings of the reference domain; tests shorten them, production keeps Waldur's. */
export interface ReferenceConfig {
  /** Interval between polls of a building server. @defaultValue 5000 */
  pollIntervalMs: number;
  /** Polls before a build is given up. @defaultValue 1200 */
  maxPolls: number;
  /** Delay of the first poll after the create call. @defaultValue 0 */
  firstPollDelayMs: number;
  /** Extra start delay of each further volume of an instance create (spreads the API calls). @defaultValue 0 */
  volumeStaggerMs: number;
  /**
   * A create's success handler also schedules `instance.pull` (in the same commit), so the new
   * instance is read back from the cloud at once. @defaultValue false
   */
  pullAfterCreate: boolean;
}

export const DEFAULT_REFERENCE_CONFIG: ReferenceConfig = {
  pollIntervalMs: 5000,
  maxPolls: 1200,
  firstPollDelayMs: 0,
  volumeStaggerMs: 0,
  pullAfterCreate: false,
};

export function referenceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ReferenceConfig {
  const number = (name: string, fallback: number): number => envNumber(env, name, fallback);
  return {
    pollIntervalMs: number('INSTANCE_POLL_INTERVAL_MS', DEFAULT_REFERENCE_CONFIG.pollIntervalMs),
    maxPolls: number('INSTANCE_MAX_POLLS', DEFAULT_REFERENCE_CONFIG.maxPolls),
    firstPollDelayMs: number('INSTANCE_FIRST_POLL_DELAY_MS', DEFAULT_REFERENCE_CONFIG.firstPollDelayMs),
    volumeStaggerMs: number('INSTANCE_VOLUME_STAGGER_MS', DEFAULT_REFERENCE_CONFIG.volumeStaggerMs),
    pullAfterCreate: (env['INSTANCE_PULL_AFTER_CREATE'] ?? '') === '1',
  };
}

/** A non-negative number from the environment; `fallback` when the variable is unset or empty. */
export function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new TypeError(`${name} must be a non-negative number, got "${value}"`);
  return parsed;
}
