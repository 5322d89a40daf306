import type { Bus } from '@jetcel/bus';
import type { CommandDefinition } from '../commands.ts';
import type { TaskCatalog } from '../queue-step.ts';
import type { Schedule } from '../schedules.ts';
import { leaseListQuery } from './lease-list-query.ts';
import { queueStatsQuery } from './queue-stats-query.ts';
import { resourceListQuery } from './resource-list-query.ts';
import { scheduleListQuery } from './schedule-list-query.ts';

export interface OperatorQueriesOptions {
  bus: Bus;
  catalog: TaskCatalog;
  /** The beat schedules of the deployment (the executor does not run them; it only describes them). */
  schedules: readonly Schedule[];
  /** The throttle limit of a scope with no row in jetcel_throttle_limit. */
  defaultThrottleLimit: number;
}

/** The operator queries: query.queue.stats, query.lease.list, query.schedule.list, query.resource.list. */
export function operatorQueries(options: OperatorQueriesOptions): Array<CommandDefinition<never>> {
  const queries = [
    queueStatsQuery(options.bus),
    leaseListQuery(options.bus, options.defaultThrottleLimit),
    scheduleListQuery(options.schedules, options.catalog),
    resourceListQuery(),
  ];
  return queries as Array<CommandDefinition<never>>;
}
