import { z } from 'zod';
import { querySubject } from '@jetcel/contracts';
import type { RetentionPolicy } from '@jetcel/db';
import { defineQuery } from './commands.ts';

/** query.retention.stats: current row counts and the retention this service was configured with (SPEC G6). */
export function retentionStatsQuery(retention: RetentionPolicy) {
  return defineQuery({
    subject: querySubject('retention', 'stats'),
    input: z.strictObject({}),
    async handle(ctx) {
      return { rows: await ctx.tx.retention.rowCounts(), retention: { ...retention } };
    },
  });
}
