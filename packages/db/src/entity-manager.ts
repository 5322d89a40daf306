import { helper, Utils } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { FRAMEWORK_ENTITIES } from './entities/index.ts';
import { FrameworkEntityError } from './errors.ts';

/**
 * The unit of work of one transaction, as a domain uses it: its own entities (`defineEntity`,
 * `defineResourceEntity`, `defineRecordEntity`) found, created, persisted, removed and flushed.
 * jetcel's own tables (executions, steps, outbox, …) are refused: they change only through jetcel.
 */
export type DomainEntityManager = Pick<
  EntityManager,
  'find' | 'findOne' | 'findOneOrFail' | 'count' | 'create' | 'assign' | 'persist' | 'remove' | 'flush' | 'getReference'
>;

const FRAMEWORK_ENTITY_NAMES: ReadonlySet<string> = new Set(FRAMEWORK_ENTITIES.map((schema) => schema.meta.className));

function refuseFramework(name: string): void {
  if (FRAMEWORK_ENTITY_NAMES.has(name)) throw new FrameworkEntityError(name);
}

/** An entity name, class or schema given to find/create: refused if it is one of jetcel's. */
function checkEntityName(entityName: unknown): void {
  if (typeof entityName === 'string' || typeof entityName === 'function' || typeof entityName === 'object') {
    refuseFramework(Utils.className(entityName as string));
  }
}

/** Entities (or arrays of them) given to persist/remove: refused if any is one of jetcel's. */
function checkEntities(entities: unknown): void {
  for (const entity of Array.isArray(entities) ? entities : [entities]) {
    if (entity !== null && typeof entity === 'object') refuseFramework(helper(entity).__meta.className);
  }
}

/** The domain's view of a transaction's entity manager (bound methods: nothing else is reachable). */
export function domainEntityManager(em: EntityManager): DomainEntityManager {
  // Each method checks its first argument and delegates; the casts only restore MikroORM's overloads.
  const named =
    <K extends 'find' | 'findOne' | 'findOneOrFail' | 'count' | 'create' | 'getReference'>(method: K) =>
    (entityName: unknown, ...rest: unknown[]): unknown => {
      checkEntityName(entityName);
      return (em[method] as (...args: unknown[]) => unknown).call(em, entityName, ...rest);
    };
  const holding =
    <K extends 'persist' | 'remove'>(method: K) =>
    (entities: unknown, ...rest: unknown[]): unknown => {
      checkEntities(entities);
      (em[method] as (...args: unknown[]) => unknown).call(em, entities, ...rest);
      return view;
    };
  const view: DomainEntityManager = {
    find: named('find') as EntityManager['find'],
    findOne: named('findOne') as EntityManager['findOne'],
    findOneOrFail: named('findOneOrFail') as EntityManager['findOneOrFail'],
    count: named('count') as EntityManager['count'],
    create: named('create') as EntityManager['create'],
    getReference: named('getReference') as EntityManager['getReference'],
    assign: em.assign.bind(em),
    persist: holding('persist') as unknown as EntityManager['persist'],
    remove: holding('remove') as unknown as EntityManager['remove'],
    flush: () => em.flush(),
  };
  return view;
}
