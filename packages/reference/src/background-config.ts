import { envNumber } from './config.ts';

/** Timings of the reference domain's background tasks and beat schedules; tests shorten them. */
export interface BackgroundConfig {
  /** @defaultValue 1 h */
  listPullEveryMs: number;
  /** How often `jetcel.prune` deletes rows past their retention. @defaultValue 10 min */
  pruneEveryMs: number;
  /** How often the backup schedules are checked for backups due. @defaultValue 5 min */
  backupCheckEveryMs: number;
  /** Interval between two scheduled backups of an instance (daily). @defaultValue 24 h */
  backupIntervalMs: number;
  /** Test only: a `jetcel.heartbeat_tick` schedule at this interval; null for none. @defaultValue null */
  testScheduleEveryMs: number | null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_BACKGROUND_CONFIG: BackgroundConfig = {
  listPullEveryMs: HOUR,
  pruneEveryMs: 10 * MINUTE,
  backupCheckEveryMs: 5 * MINUTE,
  backupIntervalMs: 24 * HOUR,
  testScheduleEveryMs: null,
};

export function backgroundConfigFromEnv(env: NodeJS.ProcessEnv = process.env): BackgroundConfig {
  const number = (name: string, fallback: number): number => envNumber(env, name, fallback);
  const testEvery = number('BEAT_TEST_SCHEDULE_EVERY_MS', 0);
  return {
    listPullEveryMs: number('BEAT_LIST_PULL_EVERY_MS', DEFAULT_BACKGROUND_CONFIG.listPullEveryMs),
    pruneEveryMs: number('BEAT_PRUNE_EVERY_MS', DEFAULT_BACKGROUND_CONFIG.pruneEveryMs),
    backupCheckEveryMs: number('BEAT_BACKUP_CHECK_EVERY_MS', DEFAULT_BACKGROUND_CONFIG.backupCheckEveryMs),
    backupIntervalMs: number('INSTANCE_BACKUP_INTERVAL_MS', DEFAULT_BACKGROUND_CONFIG.backupIntervalMs),
    testScheduleEveryMs: testEvery > 0 ? testEvery : null,
  };
}
