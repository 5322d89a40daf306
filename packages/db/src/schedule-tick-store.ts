import { toDate } from './records.ts';
import { sql, type SqlRunner } from './sql.ts';

/** Beat ticks: a (schedule, tick) row is inserted once, whatever the number of beats. */
export class ScheduleTickStore {
  constructor(private readonly em: SqlRunner) {}

  /**
   * Records the tick; true when this transaction inserted it (it then publishes the tick's task),
   * false when it was already there. A concurrent insert of the same tick waits for that
   * transaction, then sees it: exactly one beat publishes each tick.
   */
  async insert(schedule: string, tick: Date): Promise<boolean> {
    const rows = await sql(
      this.em,
      'insert into jetcel_schedule_tick (schedule, tick) values (?, ?) on conflict do nothing returning schedule',
      [schedule, tick.toISOString()],
    );
    return rows.length === 1;
  }

  /** The latest recorded tick of a schedule, if any. */
  async latest(schedule: string): Promise<Date | null> {
    const rows = await sql<{ tick: unknown }>(
      this.em,
      'select max(tick) as tick from jetcel_schedule_tick where schedule = ?',
      [schedule],
    );
    const tick = rows[0]?.tick;
    return tick === null || tick === undefined ? null : toDate(tick);
  }

  /** The latest recorded tick of each named schedule (absent when it never ticked). */
  async latestOf(schedules: string[]): Promise<Map<string, Date>> {
    if (schedules.length === 0) return new Map();
    const rows = await sql<{ schedule: string; tick: unknown }>(
      this.em,
      `select schedule, max(tick) as tick from jetcel_schedule_tick where schedule in (${schedules.map(() => '?').join(', ')}) group by schedule`,
      schedules,
    );
    return new Map(rows.map((row) => [row.schedule, toDate(row.tick)]));
  }
}
