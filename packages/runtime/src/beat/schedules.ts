import type { Json } from '@jetcel/core';
import { cronNext, cronPrevious, parseCron, type CronExpression } from './cron.ts';

export interface ScheduleOptions {
  /** Stable name: ticks are recorded under it, so renaming a schedule starts it afresh. */
  name: string;
  /** A background task's name. */
  task: string;
  args?: Json;
  /** "<type>:<id>" when the task works on one resource. */
  resource?: string;
  /** Interval in milliseconds; ticks are aligned to the epoch (floor(now / every) * every). */
  every?: number;
  /** Standard five-field cron expression, evaluated in `timezone`. */
  cron?: string;
  /** Only UTC is supported. @defaultValue 'UTC' */
  timezone?: 'UTC';
}

/** A beat schedule defined in code. */
export interface Schedule {
  readonly name: string;
  readonly task: string;
  readonly args: Json;
  readonly resource: string | undefined;
  /** "every 3600000 ms" or "cron 0 * * * * UTC", for logs. */
  readonly describe: string;
  /** The interval in milliseconds, or null for a cron schedule. */
  readonly every: number | null;
  /** The cron expression (UTC), or null for an interval schedule. */
  readonly cron: string | null;
  /** The latest tick at or before `now`: a scheduled UTC instant, the same on every beat replica. */
  latestTick(now: Date): Date;
  /** The first tick strictly after `now`. */
  nextTick(now: Date): Date;
}

const NAME_PATTERN = /^[a-z][a-z0-9_.-]*$/i;

export function defineSchedule(options: ScheduleOptions): Schedule {
  if (!NAME_PATTERN.test(options.name)) throw new TypeError(`Invalid schedule name "${options.name}"`);
  if ((options.every === undefined) === (options.cron === undefined))
    throw new TypeError(`Schedule ${options.name} needs exactly one of "every" and "cron"`);
  if (options.timezone !== undefined && options.timezone !== 'UTC')
    throw new TypeError(`Schedule ${options.name}: only the UTC time zone is supported`);
  const base = { name: options.name, task: options.task, args: options.args ?? {}, resource: options.resource };
  if (options.every !== undefined) {
    const every = options.every;
    if (!Number.isInteger(every) || every < 100)
      throw new TypeError(`Schedule ${options.name}: "every" must be a whole number of at least 100 ms`);
    return Object.freeze({
      ...base,
      describe: `every ${every} ms`,
      every,
      cron: null,
      latestTick: (now: Date) => new Date(Math.floor(now.getTime() / every) * every),
      nextTick: (now: Date) => new Date((Math.floor(now.getTime() / every) + 1) * every),
    });
  }
  const cron: CronExpression = parseCron(options.cron ?? '');
  return Object.freeze({
    ...base,
    describe: `cron ${cron.source} UTC`,
    every: null,
    cron: cron.source,
    latestTick: (now: Date) => cronPrevious(cron, now),
    nextTick: (now: Date) => cronNext(cron, now),
  });
}
