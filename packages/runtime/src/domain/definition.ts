import type { ExecutorDefinition, TaskClass, TaskDefinition } from '@jetcel/core';
import type { DbOptions, SqlMigration } from '@jetcel/db';
import type { Schedule } from '../beat/schedules.ts';
import type { CommandDefinition } from '../command/commands.ts';
import type { ReadPolicy } from '../command/read-policy.ts';
import { DomainConfigError } from './errors.ts';

/** A process `pnpm dev` starts beside the services for a domain (e.g. a simulated backend). */
export interface DevProcess {
  /** Its log prefix; unique across the deployment. */
  name: string;
  /** The program and its arguments (no shell). */
  command: readonly string[];
  /** Added to the development environment. */
  env?: Readonly<Record<string, string>>;
}

/**
 * Everything one domain brings to the stock services, as one object: the executor, workers, beat,
 * migrate job and `pnpm dev` take what they need from it. Only `name` is required.
 */
export interface DomainDefinition {
  /** Lower-case identifier; the domain's migrations are tracked in the table `<name>_migrations`. */
  name: string;
  /** The domain's tables, applied in order after the framework's (plain SQL; see defineResourceTable). */
  migrations?: readonly SqlMigration[];
  /** Its MikroORM entities (defineResourceEntity, defineRecordEntity). */
  entities?: NonNullable<DbOptions['entities']>;
  /** Its tasks; the built-in ones (jetcel.*) are registered by the framework, never here. */
  tasks?: ReadonlyArray<TaskDefinition<unknown, never> | TaskClass<unknown, never>>;
  executors?: ReadonlyArray<ExecutorDefinition<never>>;
  /** Its cmd.* and query.* handlers. */
  commands?: ReadonlyArray<CommandDefinition<unknown> | CommandDefinition<never>>;
  /** Its beat schedules. */
  schedules?: readonly Schedule[];
  /** Who may read its resources; at most one policy per deployment (docs/write-your-own.md). */
  readPolicy?: ReadPolicy;
  /** What its tasks find in `ctx.services`, built once per worker from the environment. */
  services?: (env: NodeJS.ProcessEnv) => Record<string, unknown>;
  /** Processes `pnpm dev` starts for it. */
  devProcesses?: readonly DevProcess[];
}

/** What a domain module exports as `jetcelDomain`: the definition, or a function of the environment that builds it. */
export type DomainExport =
  DomainDefinition | ((env: NodeJS.ProcessEnv) => DomainDefinition | Promise<DomainDefinition>);

const DOMAIN_NAME = /^[a-z][a-z0-9_]{0,39}$/;

/** Checks a definition's name (it names a migrations table) and returns it unchanged. */
export function defineDomain<D extends DomainDefinition>(definition: D): D {
  if (!DOMAIN_NAME.test(definition.name) || definition.name === 'jetcel')
    throw new DomainConfigError(
      'DOMAIN_INVALID',
      `domain name "${definition.name}" must match ${String(DOMAIN_NAME)} and not be "jetcel"`,
      { name: definition.name },
    );
  return definition;
}
