// A small cron: the standard five fields (minute hour day-of-month month day-of-week) with `*`,
// numbers, ranges, lists and steps, evaluated in UTC. No names (JAN, MON), no seconds, no `?`/`L`.

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
  /** Whether day-of-month / day-of-week were restricted (not `*`): if both are, either may match. */
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

const MINUTE_MS = 60_000;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseCron(source: string): CronExpression {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) throw new CronSyntaxError(source, `expected 5 fields, got ${parts.length}`);
  const [minutes, hours, daysOfMonth, months, rawDaysOfWeek] = FIELDS.map((field, index) =>
    parseField(source, parts[index] ?? '', field),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const daysOfWeek = new Set([...rawDaysOfWeek].map((day) => day % 7));
  const cron: CronExpression = {
    source,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    domRestricted: parts[2] !== '*',
    dowRestricted: parts[4] !== '*',
  };
  if (cron.domRestricted && !cron.dowRestricted) {
    const possible = [...months].some((month) =>
      [...daysOfMonth].some((day) => day <= (DAYS_IN_MONTH[month - 1] ?? 0)),
    );
    if (!possible) throw new CronSyntaxError(source, 'no month has any of these days');
  }
  return cron;
}

function parseField(source: string, text: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', stepText, ...extra] = item.split('/');
    if (extra.length > 0 || range === '') throw new CronSyntaxError(source, `bad ${field.name} "${item}"`);
    const step = stepText === undefined ? 1 : toNumber(source, stepText, field.name);
    if (step < 1) throw new CronSyntaxError(source, `${field.name} step must be at least 1`);
    let low: number;
    let high: number;
    if (range === '*') [low, high] = [field.min, field.max];
    else if (range.includes('-')) {
      const [from = '', to = '', ...rest] = range.split('-');
      if (rest.length > 0) throw new CronSyntaxError(source, `bad ${field.name} range "${range}"`);
      [low, high] = [toNumber(source, from, field.name), toNumber(source, to, field.name)];
    } else {
      low = toNumber(source, range, field.name);
      // "5/15" means from 5 to the end, every 15; a plain "5" is just 5.
      high = stepText === undefined ? low : field.max;
    }
    if (low < field.min || high > field.max || low > high)
      throw new CronSyntaxError(source, `${field.name} "${item}" is outside ${field.min}-${field.max}`);
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

function toNumber(source: string, text: string, name: string): number {
  if (!/^\d+$/.test(text)) throw new CronSyntaxError(source, `${name} "${text}" is not a number`);
  return Number(text);
}

/** Whether the (UTC) minute of `date` matches. */
export function cronMatches(cron: CronExpression, date: Date): boolean {
  return (
    cron.minutes.has(date.getUTCMinutes()) &&
    cron.hours.has(date.getUTCHours()) &&
    cron.months.has(date.getUTCMonth() + 1) &&
    dayMatches(cron, date)
  );
}

function dayMatches(cron: CronExpression, date: Date): boolean {
  const dom = cron.daysOfMonth.has(date.getUTCDate());
  const dow = cron.daysOfWeek.has(date.getUTCDay());
  // Vixie cron: when both day fields are restricted, a day matching either one counts.
  if (cron.domRestricted && cron.dowRestricted) return dom || dow;
  return dom && dow;
}

const ITERATION_LIMIT = 100_000;

/** The latest matching minute at or before `at` (UTC). */
export function cronPrevious(cron: CronExpression, at: Date): Date {
  let t = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  for (let i = 0; i < ITERATION_LIMIT; i++) {
    const date = new Date(t);
    if (!cron.months.has(date.getUTCMonth() + 1))
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) - MINUTE_MS;
    else if (!dayMatches(cron, date))
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) - MINUTE_MS;
    else if (!cron.hours.has(date.getUTCHours()))
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours()) - MINUTE_MS;
    else if (!cron.minutes.has(date.getUTCMinutes())) t -= MINUTE_MS;
    else return date;
  }
  throw new CronSyntaxError(cron.source, 'no matching time found');
}

/** The first matching minute strictly after `after` (UTC). */
export function cronNext(cron: CronExpression, after: Date): Date {
  let t = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  for (let i = 0; i < ITERATION_LIMIT; i++) {
    const date = new Date(t);
    if (!cron.months.has(date.getUTCMonth() + 1)) t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    else if (!dayMatches(cron, date)) t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
    else if (!cron.hours.has(date.getUTCHours()))
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours() + 1);
    else if (!cron.minutes.has(date.getUTCMinutes())) t += MINUTE_MS;
    else return date;
  }
  throw new CronSyntaxError(cron.source, 'no matching time found');
}
