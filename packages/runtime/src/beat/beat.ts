import { taskStream } from '@jetcel/contracts';
import { defineTopology, verifyTopology, type Bus } from '@jetcel/bus';
import type { Logger } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import type { ServiceConfig } from '../service/config.ts';
import { enqueueBackground, type EnqueueResult } from '../background/enqueue.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';
import { startRelay } from '../outbox/start-relay.ts';
import type { Schedule } from './schedules.ts';

export interface BeatOptions {
  bus: Bus;
  db: Db;
  catalog: TaskCatalog;
  schedules: Schedule[];
  logger: Logger;
  config: Pick<ServiceConfig, 'sweepMs' | 'claimGraceMs' | 'topology'>;
  /** How often each schedule is checked; bounds how late a tick is published. @defaultValue 250 */
  tickMs?: number;
}

export interface RunningBeat {
  stop(): Promise<void>;
}

/**
 * Beat: every `tickMs`, each schedule's latest due tick is recorded as a unique
 * (schedule, tick) row and, in the same transaction, its background task is queued (an outbox row
 * the relay publishes after COMMIT). Replicas race on the row, so each tick is published once;
 * only the latest due tick is ever recorded, so at most one missed tick is caught up.
 */
export async function startBeat(options: BeatOptions): Promise<RunningBeat> {
  const { bus, db, logger, config } = options;
  const schedules = distinctSchedules(options.schedules, logger);
  for (const schedule of schedules) {
    const task = options.catalog.get(schedule.task);
    if (task?.queue !== 'background')
      throw new TypeError(`Schedule ${schedule.name} names ${schedule.task}, which is not a known background task`);
  }
  await verifyTopology(bus, defineTopology(config.topology), { streams: [taskStream('background')] });
  const relay = startRelay({ bus, db, logger, sweepMs: config.sweepMs, claimGraceMs: config.claimGraceMs });
  // The last tick this process saw recorded, per schedule: the database is asked once per tick.
  const seen = new Map<string, number>();
  const publishTick = async (schedule: Schedule, tick: Date): Promise<void> => {
    const result = await db.transaction(async (tx): Promise<EnqueueResult | null> => {
      if (!(await tx.scheduleTicks.insert(schedule.name, tick))) return null;
      return enqueueBackground(tx, options.catalog, {
        task: schedule.task,
        args: schedule.args,
        ...(schedule.resource ? { resource: schedule.resource } : {}),
      });
    });
    seen.set(schedule.name, tick.getTime());
    if (result)
      logger.info('tick published', {
        schedule: schedule.name,
        tick: tick.toISOString(),
        task: schedule.task,
        ...result,
      });
  };
  const round = async (): Promise<void> => {
    const now = new Date();
    for (const schedule of schedules) {
      const tick = schedule.latestTick(now);
      if (seen.get(schedule.name) === tick.getTime()) continue;
      await publishTick(schedule, tick).catch((error: unknown) =>
        logger.warn('tick not recorded; trying again', { schedule: schedule.name, error: String(error) }),
      );
    }
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const loop = (): void => {
    if (stopped) return;
    current = round().finally(() => {
      if (!stopped) timer = setTimeout(loop, options.tickMs ?? 250);
    });
  };
  loop();
  logger.info('beat ready', { schedules: schedules.map((schedule) => `${schedule.name}: ${schedule.describe}`) });
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
      await relay.stop();
    },
  };
}

/** Schedule names are stable keys: a later schedule with a taken name is ignored, with a warning (Waldur item 36). */
function distinctSchedules(schedules: Schedule[], logger: Logger): Schedule[] {
  const byName = new Map<string, Schedule>();
  for (const schedule of schedules) {
    if (byName.has(schedule.name)) {
      logger.warn('schedule ignored: its name is already taken', { schedule: schedule.name, task: schedule.task });
      continue;
    }
    byName.set(schedule.name, schedule);
  }
  return [...byName.values()];
}
