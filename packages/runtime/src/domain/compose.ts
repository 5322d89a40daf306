import { builtinTasks, ExecutorRegistry, taskFromClass, TaskRegistry, type TaskDefinition } from '@jetcel/core';
import { entityTable, FRAMEWORK_MIGRATIONS, type DbOptions, type MigrationSet } from '@jetcel/db';
import type { Schedule } from '../beat/schedules.ts';
import type { CommandDefinition } from '../command/commands.ts';
import { ADMIN_READS, type ReadPolicy } from '../command/read-policy.ts';
import { pruneTask, type RetentionServices } from '../retention/task.ts';
import { watchdogConfigFromEnv, watchdogSchedules } from '../watchdog/schedules.ts';
import { watchdogTasks } from '../watchdog/tasks.ts';
import { defineDomain, type DevProcess, type DomainDefinition } from './definition.ts';
import { domainConflict } from './errors.ts';

/** What every domain's tasks may find in `ctx.services`: the framework's, then each domain's own. */
export type DomainServices = RetentionServices & Record<string, unknown>;

/** The configured domains, merged: what the stock services run. */
export interface ComposedDomains {
  /** The domains' names, in configuration order. */
  readonly names: readonly string[];
  readonly entities: NonNullable<DbOptions['entities']>;
  /** The framework's migration set, then each domain's under its own name, in configuration order. */
  readonly migrations: readonly MigrationSet[];
  /** The built-in tasks and the framework's (once), and every domain's. */
  readonly tasks: TaskRegistry<DomainServices>;
  readonly executors: ExecutorRegistry;
  readonly commands: Array<CommandDefinition<never>>;
  /** The framework's watchdogs (over every registered resource type), then each domain's. */
  readonly schedules: Schedule[];
  readonly readPolicy: ReadPolicy;
  readonly devProcesses: readonly DevProcess[];
  /** The worker's `ctx.services`: the framework's and every domain's, built from the environment. */
  services(env: NodeJS.ProcessEnv, framework: RetentionServices): DomainServices;
}

/** Remembers who claimed each name of one kind, and refuses a second claim. */
class Claims {
  readonly #owners = new Map<string, string>();
  constructor(readonly kind: Parameters<typeof domainConflict>[0]) {}
  claim(name: string, owner: string): void {
    const first = this.#owners.get(name);
    if (first !== undefined) throw domainConflict(this.kind, name, first, owner);
    this.#owners.set(name, owner);
  }
}

type AnyTask = NonNullable<DomainDefinition['tasks']>[number];
const asDefinition = (task: AnyTask) =>
  (typeof task === 'function' ? taskFromClass(task) : task) as unknown as TaskDefinition<unknown, DomainServices>;

const FRAMEWORK = 'the framework';

/**
 * Merges the configured domains into one set of registries, the single place where they are
 * built for every stock service. Throws DomainConfigError (DOMAIN_CONFLICT) when two domains, or a
 * domain and the framework, define the same name.
 */
export function composeDomains(
  domains: readonly DomainDefinition[],
  options: { env?: NodeJS.ProcessEnv } = {},
): ComposedDomains {
  const names = new Claims('domain');
  const tasks = new Claims('task');
  const executors = new Claims('executor');
  const subjects = new Claims('subject');
  const schedules = new Claims('schedule');
  const tables = new Claims('table');
  const resourceTypes = new Claims('resource type');
  const devProcesses = new Claims('dev process');
  const builtins = [...builtinTasks, pruneTask, ...watchdogTasks].map((task) => asDefinition(task as AnyTask));
  for (const task of builtins) tasks.claim(task.name, FRAMEWORK);
  const frameworkSchedules = watchdogSchedules(watchdogConfigFromEnv(options.env ?? process.env));
  for (const schedule of frameworkSchedules) schedules.claim(schedule.name, FRAMEWORK);
  const registry = new TaskRegistry<DomainServices>().register(...builtins);
  const executorRegistry = new ExecutorRegistry();
  let readPolicy: { policy: ReadPolicy; owner: string } | null = null;
  for (const domain of domains) {
    const owner = `domain ${defineDomain(domain).name}`;
    names.claim(domain.name, owner);
    const domainTasks = (domain.tasks ?? []).map(asDefinition);
    for (const task of domainTasks) tasks.claim(task.name, owner);
    registry.register(...domainTasks);
    for (const executor of domain.executors ?? []) executors.claim(executor.name, owner);
    executorRegistry.register(...(domain.executors ?? []));
    for (const command of domain.commands ?? []) subjects.claim(command.subject, owner);
    for (const schedule of domain.schedules ?? []) schedules.claim(schedule.name, owner);
    for (const entity of domain.entities ?? []) {
      const table = entityTable(entity);
      tables.claim(table.tableName, owner);
      if (table.resourceType !== null) resourceTypes.claim(table.resourceType, owner);
    }
    for (const process of domain.devProcesses ?? []) devProcesses.claim(process.name, owner);
    if (domain.readPolicy && readPolicy && readPolicy.policy !== domain.readPolicy)
      throw domainConflict('read policy', 'readPolicy', readPolicy.owner, owner);
    if (domain.readPolicy) readPolicy ??= { policy: domain.readPolicy, owner };
  }
  return {
    names: domains.map((domain) => domain.name),
    entities: domains.flatMap((domain) => domain.entities ?? []),
    migrations: [
      FRAMEWORK_MIGRATIONS,
      ...domains
        .filter((domain) => (domain.migrations ?? []).length > 0)
        .map((domain) => ({ name: domain.name, migrations: [...(domain.migrations ?? [])] })),
    ],
    tasks: registry,
    executors: executorRegistry,
    commands: domains.flatMap((domain) => [...(domain.commands ?? [])] as Array<CommandDefinition<never>>),
    schedules: [...frameworkSchedules, ...domains.flatMap((domain) => [...(domain.schedules ?? [])])],
    readPolicy: readPolicy?.policy ?? ADMIN_READS,
    devProcesses: domains.flatMap((domain) => [...(domain.devProcesses ?? [])]),
    services(env, framework) {
      const keys = new Claims('service');
      for (const key of Object.keys(framework)) keys.claim(key, FRAMEWORK);
      const merged: Record<string, unknown> = { ...framework };
      for (const domain of domains) {
        const own = domain.services?.(env) ?? {};
        for (const key of Object.keys(own)) keys.claim(key, `domain ${domain.name}`);
        Object.assign(merged, own);
      }
      return merged as DomainServices;
    },
  };
}

/** A domain's command may not take a subject the framework serves (the executor would answer only one). */
export function refuseFrameworkSubjects(
  commands: ReadonlyArray<Pick<CommandDefinition<never>, 'subject'>>,
  framework: ReadonlyArray<Pick<CommandDefinition<never>, 'subject'>>,
): void {
  const subjects = new Claims('subject');
  for (const command of framework) subjects.claim(command.subject, FRAMEWORK);
  for (const command of commands) subjects.claim(command.subject, 'a domain');
}
