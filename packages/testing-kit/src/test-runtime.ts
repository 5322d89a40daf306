import { applyTopology, connectBus, defineTopology, requestJson, type Bus } from '@jetcel/bus';
import { QUEUES, type QueueName } from '@jetcel/contracts';
import {
  silentLogger,
  type ExecutorDefinition,
  type JsonObject,
  type Logger,
  type ResourceSnapshot,
} from '@jetcel/core';
import { Db, migrateUp } from '@jetcel/db';
import {
  composeDomains,
  retentionPruner,
  serviceConfigFromEnv,
  startExecutorService,
  startWorker,
  type ComposedDomains,
  type DomainDefinition,
  type DomainServices,
  type ServiceConfig,
} from '@jetcel/runtime';
import { Progress, scheduleExecution } from '@jetcel/runtime/internal';
import { createTestDatabase, startNats, type NatsServerHandle, type TestDatabase } from '@jetcel/testing';
import type { ResourceEvent } from '@jetcel/contracts';
import { readExecutionRun, resourceEvents, waitForExecutionEnd, type ExecutionRun } from './execution-run.ts';
import { dataOf, type Reply } from './reply.ts';

export interface TestRuntimeOptions {
  /** The domains under test, side by side (their migrations run in this order after the framework's). */
  domains: readonly DomainDefinition[];
  /** Service configuration as the stock services read it from their environment (e.g. THROTTLE_DEFAULT_LIMIT). */
  env?: Record<string, string>;
  /** Added to, or replacing, what the domains put in `ctx.services` (e.g. a fake backend the test controls). */
  services?: Record<string, unknown>;
  /** The queues a worker consumes. @defaultValue every queue */
  queues?: readonly QueueName[];
  /** @defaultValue silent */
  logger?: Logger;
}

/** Quick timers: a test waits for sweeps and grace periods, not for a production cadence. */
const TEST_ENV: Record<string, string> = {
  JETCEL_SWEEP_MS: '200',
  JETCEL_CLAIM_GRACE_MS: '1000',
  // Requests without a token are let in (a test of authorization passes its own policy in env).
  JETCEL_AUTH_ANONYMOUS: 'allow',
};

/**
 * The stock executor service and a worker per queue, in this process, on a private nats-server and
 * a fresh database with the framework's and the domains' migrations: a domain's commands, executors
 * and tasks run exactly as in a deployment, and a test waits for an execution to end.
 */
export class TestRuntime {
  readonly #stops: Array<() => Promise<void>>;
  readonly #progress: Progress;

  private constructor(
    readonly nats: NatsServerHandle,
    readonly database: TestDatabase,
    readonly bus: Bus,
    readonly db: Db,
    readonly domains: ComposedDomains,
    /** What the domains' tasks get as `ctx.services` (the overrides included). */
    readonly services: DomainServices,
    readonly config: ServiceConfig,
    stops: Array<() => Promise<void>>,
    logger: Logger,
  ) {
    this.#stops = stops;
    this.#progress = new Progress({ catalog: domains.tasks, executors: domains.executors, logger });
  }

  static async start(options: TestRuntimeOptions): Promise<TestRuntime> {
    const logger = options.logger ?? silentLogger;
    const domains = composeDomains(options.domains);
    const stops: Array<() => Promise<void>> = [];
    try {
      const nats = await startNats();
      stops.push(() => nats[Symbol.asyncDispose]());
      const database = await createTestDatabase({ prefix: 'kit' });
      stops.push(() => database.drop());
      await migrateUp(database.url, [...domains.migrations]);
      const env = { ...TEST_ENV, ...options.env, NATS_URL: nats.url, DATABASE_URL: database.url };
      const config = serviceConfigFromEnv(env);
      const bus = await connectBus({ servers: [nats.url], name: 'test-runtime' });
      stops.push(() => bus.close());
      await applyTopology(bus, defineTopology(config.topology));
      const db = await Db.connect({ url: database.url, entities: [...domains.entities], logger });
      stops.push(() => db.close());
      const services = {
        ...domains.services(env, { retention: retentionPruner(db, config.retention) }),
        ...options.services,
      } as DomainServices;
      const common = { bus, db, logger, config, executors: domains.executors };
      const executor = await startExecutorService({
        ...common,
        catalog: domains.tasks,
        commands: domains.commands,
        schedules: domains.schedules,
        readPolicy: domains.readPolicy,
      });
      stops.push(() => executor.stop());
      for (const queue of options.queues ?? QUEUES) {
        const worker = await startWorker({ ...common, queue, concurrency: 4, registry: domains.tasks, services });
        stops.push(() => worker.stop(2000));
      }
      return new TestRuntime(nats, database, bus, db, domains, services, config, stops, logger);
    } catch (error) {
      await stopAll(stops);
      throw error;
    }
  }

  /** Sends a cmd.* or query.* request through the executor service, as a client would. */
  request(subject: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    return requestJson(this.bus, subject, payload, { timeoutMs: 10_000, headers }) as Promise<Reply>;
  }

  /** A request that must succeed: its data. */
  async ok<T = Record<string, unknown>>(subject: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return dataOf<T>(await this.request(subject, body, headers));
  }

  /** Inserts a resource row (CREATION_SCHEDULED) directly, for an executor test without a command. */
  insert(type: string, fields: ResourceSnapshot['fields']): Promise<ResourceSnapshot> {
    return this.db.transaction((tx) => tx.resources.insert(type, fields, { executionId: null, actor: null }));
  }

  resource(type: string, id: string): Promise<ResourceSnapshot | null> {
    return this.db.read((tx) => tx.resources.get(type, id));
  }

  /** Schedules an executor on a resource as a command would (preApply, plan, first step) and returns the execution id. */
  async schedule<P extends JsonObject>(
    executor: ExecutorDefinition<P>,
    resource: Pick<ResourceSnapshot, 'type' | 'id'>,
    params: P,
    actor: string | null = null,
  ): Promise<string> {
    return this.db.transaction(async (tx) => {
      const current = await tx.resources.get(resource.type, resource.id, { forUpdate: true });
      if (!current) throw new Error(`no ${resource.type} ${resource.id} to schedule ${executor.name} on`);
      const scheduled = await scheduleExecution(tx, this.#progress, executor, { resource: current, params, actor });
      if (scheduled.kind !== 'scheduled')
        throw new Error(`${executor.name} was not scheduled (${scheduled.kind}) on ${resource.type} ${resource.id}`);
      return scheduled.executionId;
    });
  }

  /** Waits until the execution has ended (succeeded, failed or cancelled) and its events are out; then what it did. */
  async run(executionId: string, timeoutMs = 20_000): Promise<ExecutionRun> {
    await waitForExecutionEnd(this.db, this.database.url, executionId, timeoutMs);
    return readExecutionRun(this.db, this.bus, executionId);
  }

  /** Schedules an executor and waits for the end of its execution. */
  async execute<P extends JsonObject>(
    executor: ExecutorDefinition<P>,
    resource: Pick<ResourceSnapshot, 'type' | 'id'>,
    params: P,
    timeoutMs?: number,
  ): Promise<ExecutionRun> {
    return this.run(await this.schedule(executor, resource, params), timeoutMs);
  }

  /** The events published for a resource so far, oldest first. */
  events(type: string, id: string): Promise<ResourceEvent[]> {
    return resourceEvents(this.bus, type, id);
  }

  /** Stops the workers and the executor service, then drops the database and the nats-server. */
  async stop(): Promise<void> {
    await stopAll(this.#stops);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Starts a test runtime (see TestRuntime). */
export function startTestRuntime(options: TestRuntimeOptions): Promise<TestRuntime> {
  return TestRuntime.start(options);
}

/** Runs the stops last-first, each once, carrying on past failures. */
async function stopAll(stops: Array<() => Promise<void>>): Promise<void> {
  while (stops.length > 0)
    await stops
      .pop()?.()
      .catch(() => undefined);
}
