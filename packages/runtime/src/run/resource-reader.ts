import { parseResourceRef } from '@jetcel/contracts';
import type { ResourceReader } from '@jetcel/core';
import type { Db } from '@jetcel/db';

/** What a running task may read beyond its own resource, each read its own short transaction. */
export function resourceReader(db: Db): ResourceReader {
  return {
    get: (ref) => {
      const { type, id } = parseResourceRef(ref);
      return db.transaction((tx) => tx.resources.get(type, id));
    },
    types: () => db.resourceTypes(),
    find: (type, where, options) => db.transaction((tx) => tx.resources.find(type, where, options)),
    latestExecution: async (ref) => {
      const { type, id } = parseResourceRef(ref);
      const [latest] = await db.transaction((tx) =>
        tx.executions.list({ resourceType: type, resourceId: id, limit: 1 }),
      );
      return latest ? { id: latest.id, executor: latest.executor, status: latest.status } : null;
    },
  };
}
