import { defineSchedule, type Schedule } from '../beat/schedules.ts';
import { number } from '../service/config.ts';
import { DEFAULT_PROVISIONING_TIMEOUT_MS, WATCHDOG_TASKS } from './tasks.ts';

const MINUTE = 60_000;

/** The framework's stuck-resource watchdogs: how often they run, and when provisioning counts as stuck. */
export interface WatchdogConfig {
  /** Resources CREATING or CREATION_SCHEDULED untouched for longer become ERRED. @defaultValue 3 h */
  provisioningTimeoutMs: number;
  /** @defaultValue 1 h */
  stuckProvisioningEveryMs: number;
  /** @defaultValue 10 min */
  resetUpdatingEveryMs: number;
}

export const DEFAULT_WATCHDOG_CONFIG: WatchdogConfig = {
  provisioningTimeoutMs: DEFAULT_PROVISIONING_TIMEOUT_MS,
  stuckProvisioningEveryMs: 60 * MINUTE,
  resetUpdatingEveryMs: 10 * MINUTE,
};

export function watchdogConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WatchdogConfig {
  return {
    provisioningTimeoutMs: number(env, 'JETCEL_PROVISIONING_TIMEOUT_MS', DEFAULT_WATCHDOG_CONFIG.provisioningTimeoutMs),
    stuckProvisioningEveryMs: number(
      env,
      'BEAT_STUCK_PROVISIONING_EVERY_MS',
      DEFAULT_WATCHDOG_CONFIG.stuckProvisioningEveryMs,
    ),
    resetUpdatingEveryMs: number(env, 'BEAT_RESET_UPDATING_EVERY_MS', DEFAULT_WATCHDOG_CONFIG.resetUpdatingEveryMs),
  };
}

/** The watchdog schedules every deployment runs, over every resource type its domains register. */
export function watchdogSchedules(config: WatchdogConfig = DEFAULT_WATCHDOG_CONFIG): Schedule[] {
  return [
    defineSchedule({
      name: 'set-erred-stuck-resources',
      task: WATCHDOG_TASKS.stuckProvisioning,
      args: { timeoutMs: config.provisioningTimeoutMs },
      every: config.stuckProvisioningEveryMs,
    }),
    defineSchedule({
      name: 'reset-updating-resources',
      task: WATCHDOG_TASKS.resetUpdating,
      every: config.resetUpdatingEveryMs,
    }),
  ];
}
