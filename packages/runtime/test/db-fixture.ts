import { Db, FRAMEWORK_MIGRATIONS, migrateUp } from '@jetcel/db';
import { createTestDatabase, type TestDatabase } from '@jetcel/testing';

/** A fresh database with jetcel's own tables, and a `Db` on it. */
export async function setupDb(): Promise<{ database: TestDatabase; db: Db; close(): Promise<void> }> {
  const database = await createTestDatabase({ prefix: 'runtime' });
  await migrateUp(database.url, [FRAMEWORK_MIGRATIONS]);
  const db = await Db.connect({ url: database.url });
  return {
    database,
    db,
    async close() {
      await db.close();
      await database.drop();
    },
  };
}
