import { z } from 'zod';
import { querySubject } from '@jetcel/contracts';
import type { RetentionPolicy } from '@jetcel/db';
import { defineQuery } from '../command/commands.ts';
import { frameworkTx } from '../command/context.ts';

/**
 * query.retention.stats: current row counts, the retention this service was configured with, and
 * the dead letters past it kept because nobody re-drove them.
 */
export function retentionStatsQuery(retention: RetentionPolicy) {
  return defineQuery({
    subject: querySubject('retention', 'stats'),
    input: z.strictObject({}),
    async handle(ctx) {
      return {
        rows: await frameworkTx(ctx).retention.rowCounts(),
        retention: { ...retention },
        // Past their retention but never re-driven: retention keeps them (deleting would lose work).
        kept: { deadLetters: await frameworkTx(ctx).retention.deadLettersKept(retention.deadLettersMs) },
      };
    },
  });
}
