import { defineResourceTable, type MigrationSet } from '@jetcel/db';

/** The reference domain's tables, in their own migration set (a user's domain does the same). */
export const referenceMigrations: MigrationSet = {
  name: 'reference',
  migrations: [
    {
      name: 'm001_instances_and_cloud_settings',
      up: [
        `create table "ref_cloud_settings" ("id" varchar(63) not null, "name" varchar(255) not null, "created_at" timestamptz not null default now(), constraint "ref_cloud_settings_pkey" primary key ("id"))`,
        ...defineResourceTable('ref_instance', {
          resourceType: 'instance',
          extraColumns: [
            `"name" varchar(63) not null`,
            `"cloud_settings_id" varchar(63) not null references "ref_cloud_settings" ("id")`,
            `"flavor" varchar(63) not null default 'small'`,
          ],
        }),
        `create index "ref_instance_cloud_settings_id_index" on "ref_instance" ("cloud_settings_id")`,
        `create index "ref_instance_state_index" on "ref_instance" ("state")`,
        // A cloud to start with, so that the README's first command works on an empty database.
        `insert into "ref_cloud_settings" ("id", "name") values ('default', 'Default simulated cloud')`,
      ],
      down: ['drop table if exists "ref_instance"', 'drop table if exists "ref_cloud_settings"'],
    },
    {
      name: 'm002_projects_and_volumes',
      up: [
        ...defineResourceTable('ref_project', {
          resourceType: 'project',
          extraColumns: [`"name" varchar(63) not null`],
        }),
        `alter table "ref_instance" add column "project_id" uuid null`,
        `create index "ref_instance_project_id_index" on "ref_instance" ("project_id")`,
        ...defineResourceTable('ref_volume', {
          resourceType: 'volume',
          extraColumns: [
            `"name" varchar(63) not null`,
            `"cloud_settings_id" varchar(63) not null references "ref_cloud_settings" ("id")`,
            `"size" int not null`,
            `"instance_id" uuid null`,
            `"project_id" uuid null`,
          ],
        }),
        `create index "ref_volume_instance_id_index" on "ref_volume" ("instance_id")`,
        `create index "ref_volume_project_id_index" on "ref_volume" ("project_id")`,
      ],
      down: [
        'drop table if exists "ref_volume"',
        'alter table "ref_instance" drop column if exists "project_id"',
        'drop table if exists "ref_project"',
      ],
    },
    {
      // Who created each resource; only they (or an admin) may change or delete it.
      name: 'm003_resource_owners',
      up: [
        `alter table "ref_project" add column "owner" varchar(255) null`,
        `alter table "ref_instance" add column "owner" varchar(255) null`,
        `alter table "ref_volume" add column "owner" varchar(255) null`,
      ],
      down: [
        'alter table "ref_volume" drop column if exists "owner"',
        'alter table "ref_instance" drop column if exists "owner"',
        'alter table "ref_project" drop column if exists "owner"',
      ],
    },
    {
      // Reads are per owner: a non-admin's lists filter on the owner, newest first.
      name: 'm004_owner_indexes',
      up: [
        `create index "ref_project_owner_index" on "ref_project" ("owner", "created_at")`,
        `create index "ref_instance_owner_index" on "ref_instance" ("owner", "created_at")`,
        `create index "ref_volume_owner_index" on "ref_volume" ("owner", "created_at")`,
      ],
      down: [
        'drop index if exists "ref_volume_owner_index"',
        'drop index if exists "ref_instance_owner_index"',
        'drop index if exists "ref_project_owner_index"',
      ],
    },
    {
      // A daily backup schedule per instance: how many scheduled backups to keep, and when the next is due.
      name: 'm005_instance_backup_schedules',
      up: [
        `alter table "ref_instance" add column "backup_retention" int null, add column "backup_next_at" timestamptz null`,
        `create index "ref_instance_backup_next_at_index" on "ref_instance" ("backup_next_at") where "backup_retention" is not null`,
      ],
      down: [
        'drop index if exists "ref_instance_backup_next_at_index"',
        'alter table "ref_instance" drop column if exists "backup_next_at", drop column if exists "backup_retention"',
      ],
    },
  ],
};
