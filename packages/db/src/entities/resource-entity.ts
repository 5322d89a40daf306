import { defineEntity, p } from '@mikro-orm/core';
import { RESOURCE_STATES, type JsonObject } from '@jetcel/core';
import { resourceTableComment } from '../resource-table.ts';

type PropertyBuilders = typeof p;

/** The columns every resource has: state machine, error fields, action, runtime state, CAS version. */
function resourceColumns() {
  return {
    id: p.uuid().primary(),
    state: p
      .enum([...RESOURCE_STATES])
      .nativeEnumName('resource_state')
      .default('CREATION_SCHEDULED'),
    version: p.integer().default(1),
    errorMessage: p.text().default(''),
    errorTraceback: p.text().default(''),
    action: p.string().length(50).default(''),
    actionDetails: p.json<JsonObject>().default('{}'),
    runtimeState: p.string().length(150).default(''),
    backendId: p.string().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    modifiedAt: p.datetime().defaultRaw('now()'),
  };
}

export const COMMON_RESOURCE_PROPERTIES = Object.keys(resourceColumns());

/**
 * Defines a resource table: the common resource columns plus the domain's own, declared with
 * the property builders passed in (so domain packages never import MikroORM themselves).
 */
export function defineResourceEntity<T extends Record<string, unknown>>(options: {
  name: string;
  tableName: string;
  /** The resource type in references and subjects ("instance" in "instance:<id>"). */
  resourceType: string;
  properties: (builders: PropertyBuilders) => T;
}) {
  return defineEntity({
    name: options.name,
    tableName: options.tableName,
    comment: resourceTableComment(options.resourceType),
    properties: { ...resourceColumns(), ...options.properties(p) },
  });
}

/** Defines a plain domain table (lookup data such as cloud settings). */
export function defineRecordEntity<T extends Record<string, unknown>>(options: {
  name: string;
  tableName: string;
  properties: (builders: PropertyBuilders) => T;
}) {
  return defineEntity({ name: options.name, tableName: options.tableName, properties: options.properties(p) });
}
