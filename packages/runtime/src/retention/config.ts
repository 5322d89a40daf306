import type { RetentionPolicy } from '@jetcel/db';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How long jetcel keeps each kind of row unless the environment says otherwise. */
export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze({
  outboxMs: HOUR,
  executionsMs: 30 * DAY,
  deadLettersMs: 30 * DAY,
  idempotencyMs: DAY,
  ticksMs: 7 * DAY,
});

const ENV_NAMES: Record<keyof RetentionPolicy, string> = {
  outboxMs: 'RETENTION_OUTBOX_MS',
  executionsMs: 'RETENTION_EXECUTIONS_MS',
  deadLettersMs: 'RETENTION_DEAD_LETTERS_MS',
  idempotencyMs: 'RETENTION_IDEMPOTENCY_MS',
  ticksMs: 'RETENTION_TICKS_MS',
};

/** Reads the `RETENTION_*_MS` variables (whole milliseconds, at least 0); unset means the default. */
export function retentionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RetentionPolicy {
  const read = (key: keyof RetentionPolicy): number => {
    const name = ENV_NAMES[key];
    const raw = env[name];
    if (raw === undefined || raw === '') return DEFAULT_RETENTION[key];
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new TypeError(`${name} must be a whole number of milliseconds, got "${raw}"`);
    return value;
  };
  return {
    outboxMs: read('outboxMs'),
    executionsMs: read('executionsMs'),
    deadLettersMs: read('deadLettersMs'),
    idempotencyMs: read('idempotencyMs'),
    ticksMs: read('ticksMs'),
  };
}
