import { CronExpressionParser, type CronExpression as ParsedCron } from 'cron-parser';

// The standard five fields (minute hour day-of-month month day-of-week) with `*`, numbers, ranges,
// lists and steps, evaluated in UTC by cron-parser. Names (JAN, MON), seconds, `?`, `L`, `W`, `#`
// and `@` nicknames are refused, so that a schedule reads the same to every cron.

export class CronSyntaxError extends TypeError {
  constructor(expression: string, reason: string) {
    super(`Invalid cron expression "${expression}": ${reason}`);
    this.name = 'CronSyntaxError';
  }
}

export interface CronExpression {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday (7 is accepted and means Sunday too). */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether day-of-month / day-of-week were restricted (not `*`): if both are, either may match (Vixie cron). */
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
  /** cron-parser's iterator; every call below resets it to its own instant first. */
  readonly parsed: ParsedCron;
}

const FIELD = /^[0-9*,/-]+$/;
const MINUTE_MS = 60_000;

export function parseCron(source: string): CronExpression {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) throw new CronSyntaxError(source, `expected 5 fields, got ${parts.length}`);
  const odd = parts.find((part) => !FIELD.test(part));
  if (odd !== undefined) throw new CronSyntaxError(source, `"${odd}" may only hold digits and * , / -`);
  let parsed: ParsedCron;
  try {
    parsed = CronExpressionParser.parse(parts.join(' '), { tz: 'UTC' });
  } catch (error) {
    throw new CronSyntaxError(source, error instanceof Error ? error.message : String(error));
  }
  const { fields } = parsed;
  const numbers = (values: readonly (number | string)[]): Set<number> =>
    new Set(values.filter((value): value is number => typeof value === 'number'));
  return {
    source,
    minutes: numbers(fields.minute.values),
    hours: numbers(fields.hour.values),
    daysOfMonth: numbers(fields.dayOfMonth.values),
    months: numbers(fields.month.values),
    daysOfWeek: new Set([...numbers(fields.dayOfWeek.values)].map((day) => day % 7)),
    domRestricted: parts[2] !== '*',
    dowRestricted: parts[4] !== '*',
    parsed,
  };
}

const minuteOf = (date: Date): number => Math.floor(date.getTime() / MINUTE_MS) * MINUTE_MS;

/** Whether the (UTC) minute of `date` matches. */
export function cronMatches(cron: CronExpression, date: Date): boolean {
  return cron.parsed.includesDate(new Date(minuteOf(date)));
}

/** The latest matching minute at or before `at` (UTC). */
export function cronPrevious(cron: CronExpression, at: Date): Date {
  // prev() is strictly before its start: start one second into the minute of `at`
  cron.parsed.reset(new Date(minuteOf(at) + 1_000));
  return cron.parsed.prev().toDate();
}

/** The first matching minute strictly after `after` (UTC). */
export function cronNext(cron: CronExpression, after: Date): Date {
  cron.parsed.reset(new Date(minuteOf(after) + MINUTE_MS - 1));
  return cron.parsed.next().toDate();
}
