import type { Bus } from '@jetcel/bus';
import { adminOnly, type CommandDefinition } from '../command/commands.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';
import type { Schedule } from '../beat/schedules.ts';
import { leaseListQuery } from './lease-list-query.ts';
import { queueStatsQuery } from './queue-stats-query.ts';
import { resourceGetQuery, resourceListQuery } from './resource-list-query.ts';
import { scheduleListQuery } from './schedule-list-query.ts';

export interface OperatorQueriesOptions {
  bus: Bus;
  catalog: TaskCatalog;
  /** The beat schedules of the deployment (the executor does not run them; it only describes them). */
  schedules: readonly Schedule[];
  /** The throttle limit of a scope with no row in jetcel_throttle_limit. */
  defaultThrottleLimit: number;
  /** The per-kind limits the executors declare in code (below a jetcel_throttle_limit row). */
  declaredThrottleLimits?: ReadonlyMap<string, number>;
}

/**
 * The operator queries: query.queue.stats, query.lease.list and query.schedule.list (an admin's),
 * and query.resource.list|get (what the caller may read).
 */
export function operatorQueries(options: OperatorQueriesOptions): Array<CommandDefinition<never>> {
  const queries = [
    adminOnly(queueStatsQuery(options.bus)),
    adminOnly(leaseListQuery(options.bus, options.defaultThrottleLimit, options.declaredThrottleLimits)),
    adminOnly(scheduleListQuery(options.schedules, options.catalog)),
    resourceListQuery(),
    resourceGetQuery(),
  ];
  return queries as Array<CommandDefinition<never>>;
}
