import { defineResourceEntity, defineResourceTable, type SqlMigration } from '@jetcel/db';
import { z } from 'zod';

export const ZONE_TYPE = 'dns_zone';

/** A DNS zone: its name, the provider account it lives in (the throttle scope) and who created it. */
export const DnsZone = defineResourceEntity({
  name: 'DnsZone',
  tableName: 'dns_zone',
  resourceType: ZONE_TYPE,
  properties: (p) => ({
    name: p.string().length(253),
    account: p.string().length(63),
    owner: p.string().length(255).nullable(),
  }),
});

export const dnsMigrations: SqlMigration[] = [
  {
    name: 'm001_dns_zone',
    up: [
      ...defineResourceTable('dns_zone', {
        resourceType: ZONE_TYPE,
        extraColumns: [`"name" varchar(253) not null`, `"account" varchar(63) not null`, `"owner" varchar(255) null`],
      }),
      `create unique index "dns_zone_name_unique" on "dns_zone" ("name")`,
    ],
    down: ['drop table if exists "dns_zone"'],
  },
];

/** The domain columns of a zone's snapshot, checked. */
export const zoneFields = z.object({ name: z.string(), account: z.string(), owner: z.string().nullable() });
