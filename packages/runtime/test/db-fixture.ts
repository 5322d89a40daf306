import {
  Db,
  defineRecordEntity,
  defineResourceEntity,
  FRAMEWORK_MIGRATIONS,
  migrateUp,
  type MigrationSet,
} from '@jetcel/db';
import { createTestDatabase, perTestFile, type TestDatabase } from '@jetcel/testing';

/** A throwaway resource type for the runtime tests: jetcel's common columns and a `name`. */
export const Widget = defineResourceEntity({
  name: 'Widget',
  tableName: 'test_widget',
  resourceType: 'widget',
  properties: (p) => ({ name: p.string() }),
});

/** A plain domain table beside the widgets, written through the command's entity manager. */
export const WidgetNote = defineRecordEntity({
  name: 'WidgetNote',
  tableName: 'test_widget_note',
  properties: (p) => ({ id: p.uuid().primary(), widgetId: p.uuid(), text: p.string() }),
});

export const widgetMigrations: MigrationSet = {
  name: 'runtimetest',
  migrations: [
    {
      name: 'm001_widget',
      up: [
        `create table "test_widget" ("id" uuid not null primary key, "state" "resource_state" not null default 'CREATION_SCHEDULED', "version" int not null default 1, "error_message" text not null default '', "error_traceback" text not null default '', "action" varchar(50) not null default '', "action_details" jsonb not null default '{}', "runtime_state" varchar(150) not null default '', "backend_id" varchar(255) null, "created_at" timestamptz not null default now(), "modified_at" timestamptz not null default now(), "name" varchar(255) not null)`,
        `comment on table "test_widget" is 'jetcel-resource:widget'`,
        `create table "test_widget_settings" ("id" varchar(63) not null primary key)`,
        `create table "test_widget_note" ("id" uuid not null primary key, "widget_id" uuid not null, "text" varchar(255) not null)`,
      ],
      down: ['drop table "test_widget_note"', 'drop table "test_widget_settings"', 'drop table "test_widget"'],
    },
  ],
};

export interface TestDb {
  database: TestDatabase;
  db: Db;
  close(): Promise<void>;
}

/** A fresh database with jetcel's own tables (and, with `widgets`, the widget tables), and a `Db` on it. */
export async function setupDb(options: { widgets?: boolean } = {}): Promise<TestDb> {
  const database = await createTestDatabase({ prefix: 'runtime' });
  await migrateUp(database.url, options.widgets ? [FRAMEWORK_MIGRATIONS, widgetMigrations] : [FRAMEWORK_MIGRATIONS]);
  const db = await Db.connect({ url: database.url, ...(options.widgets ? { entities: [Widget, WidgetNote] } : {}) });
  return {
    database,
    db,
    async close() {
      await db.close();
      await database.drop();
    },
  };
}

/** The test file's database: created before its first test, dropped after its last. */
export function useTestDb(options: { widgets?: boolean } = {}): { readonly database: TestDatabase; readonly db: Db } {
  const open = perTestFile(() => setupDb(options));
  return {
    get database() {
      return open().database;
    },
    get db() {
      return open().db;
    },
  };
}
