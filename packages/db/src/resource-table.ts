/**
 * The SQL of the columns every resource table has (the same as defineResourceEntity's properties),
 * in the order the table lists them: id, state machine, CAS version, error fields, action, runtime
 * state, backend id, timestamps.
 */
export const COMMON_RESOURCE_COLUMNS_SQL: readonly string[] = [
  `"id" uuid not null`,
  `"state" "resource_state" not null default 'CREATION_SCHEDULED'`,
  `"version" int not null default 1`,
  `"error_message" text not null default ''`,
  `"error_traceback" text not null default ''`,
  `"action" varchar(50) not null default ''`,
  `"action_details" jsonb not null default '{}'`,
  `"runtime_state" varchar(150) not null default ''`,
  `"backend_id" varchar(255) null`,
  `"created_at" timestamptz not null default now()`,
  `"modified_at" timestamptz not null default now()`,
];

/** The comment that marks a table as a resource table of `resourceType` (what defineResourceEntity writes too). */
export function resourceTableComment(resourceType: string): string {
  return `jetcel-resource:${resourceType}`;
}

/**
 * A migration's statements that create a resource table: the common resource columns, then the
 * domain's own (`extraColumns`, each a column definition such as `"name" varchar(63) not null`),
 * the primary key, and the comment naming its resource type. Indexes stay the domain's to add.
 */
export function defineResourceTable(
  tableName: string,
  options: { resourceType: string; extraColumns?: readonly string[] },
): string[] {
  const columns = [
    ...COMMON_RESOURCE_COLUMNS_SQL,
    ...(options.extraColumns ?? []),
    `constraint "${tableName}_pkey" primary key ("id")`,
  ];
  return [
    `create table "${tableName}" (${columns.join(', ')})`,
    `comment on table "${tableName}" is '${resourceTableComment(options.resourceType)}'`,
  ];
}
