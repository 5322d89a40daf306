import type { Tx } from '@jetcel/db';
import type { CommandContext } from '../command/commands.ts';

/**
 * A transaction as a domain's code reaches it (a command handler, an executor's preApply): its
 * resources, records and entities, as bound methods — nothing else of the transaction.
 */
export function domainAccess(tx: Tx): Pick<CommandContext, 'resources' | 'records' | 'em'> {
  const { resources } = tx;
  return {
    resources: {
      get: resources.get.bind(resources),
      find: resources.find.bind(resources),
      list: resources.list.bind(resources),
      countByState: resources.countByState.bind(resources),
      insert: resources.insert.bind(resources),
      insertMany: resources.insertMany.bind(resources),
      applyPatch: resources.applyPatch.bind(resources),
    },
    records: {
      exists: (table, id) => tx.recordExists(table, id),
      get: (table, id) => tx.recordGet(table, id),
      insert: (table, row) => tx.recordInsert(table, row),
    },
    em: tx.entities,
  };
}
