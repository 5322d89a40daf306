import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { applyTopology, connectBus, defineTopology, publish, requestJson, type Bus } from '@jetcel/bus';
import { migrateUp } from '@jetcel/db';
import { composeDomains, loadDomains, serviceConfigFromEnv } from '@jetcel/runtime';
import {
  createTestDatabase,
  eventually,
  spawnService,
  startNats,
  type NatsServerHandle,
  type ServiceProcess,
  type TestDatabase,
} from '@jetcel/testing';
import { dataOf, type Reply } from './reply.ts';

/** The repository root: the stock services are spawned from its services/ directory. */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface StackOptions {
  /**
   * The domains, as JETCEL_DOMAINS lists them (package names installed at the repository root, or
   * absolute paths): their migrations are applied at start, and the services load them.
   */
  domains: readonly string[];
  /** Extra environment for every service process (JETCEL_DOMAINS here wins over `domains` for the services). */
  env?: Record<string, string>;
  /**
   * Run on these NATS servers (e.g. a `startNatsCluster()`'s `urls`) instead of starting a private
   * nats-server: the test client connects with all of them and the services get
   * `NATS_URL=<urls joined by ,>`. The caller owns the servers; `stop()` leaves them running.
   */
  natsUrls?: string[];
  /**
   * Use this database (e.g. on a private `startPostgresCluster()` for outage tests) instead of a
   * fresh one on the machine's PostgreSQL; it is migrated here and dropped by `stop()`.
   */
  database?: TestDatabase;
}

/** What a started stack is made of; a subclass (a domain's own stack with its backend) passes it on. */
export interface StackParts {
  nats: NatsServerHandle | undefined;
  natsUrls: string[];
  database: TestDatabase;
  bus: Bus;
  pool: pg.Pool;
  env: Record<string, string>;
}

/** A stack's service processes wait for this many ms to say they are ready (several compile at once on a busy machine). */
const READY_TIMEOUT_MS = 60_000;

/**
 * A whole jetcel on real servers for any domain list: its own nats-server (random port, temp
 * store) or the given `natsUrls`, its own PostgreSQL database with the framework's and the
 * domains' migrations, and the stock services as real processes (`spawn`).
 */
export class Stack {
  readonly services: ServiceProcess[] = [];
  /** Headers every request of the stack's helpers carries (e.g. an identity token under `deny`). */
  requestHeaders: Record<string, string> = {};
  readonly #nats: NatsServerHandle | undefined;
  /** Every NATS URL the test client and the services use. */
  readonly natsUrls: string[];
  readonly database: TestDatabase;
  readonly bus: Bus;
  readonly pool: pg.Pool;
  readonly env: Record<string, string>;

  protected constructor(parts: StackParts) {
    this.#nats = parts.nats;
    this.natsUrls = parts.natsUrls;
    this.database = parts.database;
    this.bus = parts.bus;
    this.pool = parts.pool;
    this.env = parts.env;
  }

  static async start(options: StackOptions): Promise<Stack> {
    return new Stack(await startStackParts(options));
  }

  /** The stack's own nats-server; throws for a stack started with `natsUrls`. */
  get nats(): NatsServerHandle {
    if (!this.#nats)
      throw new Error('this stack runs on external NATS servers (natsUrls): it has no nats-server of its own');
    return this.#nats;
  }

  /** Starts a stock service (`pnpm dev`'s entry) with the stack's environment and waits for its ready line. */
  async spawn(
    service: 'executor' | 'worker' | 'beat',
    options: { queue?: string; env?: Record<string, string>; readyTimeoutMs?: number } = {},
  ): Promise<ServiceProcess> {
    const args = service === 'worker' ? ['--queue', options.queue ?? 'regular'] : [];
    const process = await spawnService({
      cwd: resolve(REPOSITORY_ROOT, 'services', service),
      entry: 'src/main.ts',
      args,
      env: { ...this.env, ...options.env },
      readyLine: new RegExp(`"${service} ready"`),
      timeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
    this.services.push(process);
    return process;
  }

  request(subject: string, body: unknown, headers?: Record<string, string>): Promise<Reply> {
    return requestJson(this.bus, subject, typeof body === 'string' ? body : JSON.stringify(body), {
      timeoutMs: 10_000,
      headers: { ...this.requestHeaders, ...headers },
    }) as Promise<Reply>;
  }

  /** Sends a command that must succeed and returns its data. */
  async ok<T = Record<string, unknown>>(subject: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return dataOf<T>(await this.request(subject, body, headers));
  }

  async sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(text, params)).rows;
  }

  /** Waits (reading the table directly, so it works while services are down) for a resource row's state. */
  async waitForRow<T extends { state: string }>(
    table: string,
    id: string,
    state: string,
    timeoutMs = 20_000,
  ): Promise<T> {
    try {
      return await eventually(
        async () => {
          const rows = await this.sql<T>(`select * from "${table}" where id = $1`, [id]);
          return rows[0]?.state === state ? rows[0] : undefined;
        },
        { timeoutMs, message: `${table} ${id} never reached ${state}` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await this.diagnose(id)}`, { cause: error });
    }
  }

  /** Waits for an execution to reach one of the final statuses and returns it with its steps. */
  async waitForExecution(id: string, timeoutMs = 20_000): Promise<ExecutionView> {
    return eventually(
      async () => {
        const reply = await this.request('query.execution.get', { id });
        const execution = reply.ok ? (reply.data as ExecutionView) : undefined;
        return execution && ['succeeded', 'failed', 'cancelled'].includes(execution.status) ? execution : undefined;
      },
      { timeoutMs, message: `execution ${id} never finished` },
    );
  }

  /**
   * Publishes a task message that names no known step (a worker dead-letters it as UNATTRIBUTABLE),
   * or, with an unknown task name, one that waits out the grace period (UNKNOWN_TASK). Returns the payload.
   */
  async publishOrphanTask(task: string): Promise<string> {
    const message = JSON.stringify({
      v: 1,
      task,
      queue: 'regular',
      executionId: randomUUID(),
      stepId: randomUUID(),
      attempt: 1,
      args: {},
    });
    await publish(this.bus, 'tasks.regular', message, { msgId: randomUUID() });
    return message;
  }

  /** Sets the live limit of a throttle kind for one scope ("*" for every scope; negative: unthrottled). */
  async setThrottleLimit(scope: string, limit: number, kind: string): Promise<void> {
    await this.sql(
      `insert into jetcel_throttle_limit (kind, scope, "limit") values ($1, $2, $3)
       on conflict (kind, scope) do update set "limit" = excluded."limit"`,
      [kind, scope, limit],
    );
  }

  /** What a stuck resource's executions look like: for the failure message of a test. */
  async diagnose(resourceId: string): Promise<string> {
    return JSON.stringify(await this.diagnosis(resourceId), null, 1);
  }

  protected async diagnosis(resourceId: string): Promise<Record<string, unknown>> {
    const steps = await this.sql(
      `with recursive tree(id) as (
         select id from jetcel_execution where resource_id = $1
         union all select c.id from jetcel_execution c join jetcel_step s on s.id = c.parent_step_id join tree t on t.id = s.execution_id)
       select e.executor, e.status as execution, s.role, s.position, s.member, s.task, s.status, s.attempts, s.polls,
              s.not_before, s.claimed_until, s.error_message
       from tree t join jetcel_execution e on e.id = t.id join jetcel_step s on s.execution_id = e.id order by s.queued_at`,
      [resourceId],
    );
    const outbox = await this.sql(
      'select subject, not_before, lease_until, attempts, last_error from jetcel_outbox where published_at is null',
    );
    const waiters = await this.sql('select * from jetcel_throttle_waiter');
    return { steps, unpublished: outbox, waiters };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.services.map((service) => service.stop()));
    await this.bus.close().catch(() => {});
    await this.pool.end().catch(() => {});
    await this.database.drop().catch(() => {});
    await this.#nats?.[Symbol.asyncDispose]().catch(() => {});
  }
}

/** Starts the servers of a stack and migrates its database (the framework's and the domains' migrations). */
export async function startStackParts(options: StackOptions): Promise<StackParts> {
  if (options.natsUrls?.length === 0) throw new TypeError('natsUrls must list at least one server');
  const nats = options.natsUrls ? undefined : await startNats();
  const natsUrls = options.natsUrls ?? (nats ? [nats.url] : []);
  const database = options.database ?? (await createTestDatabase({ prefix: 'e2e' }));
  const env: Record<string, string> = {
    NATS_URL: natsUrls.join(','),
    DATABASE_URL: database.url,
    JETCEL_DOMAINS: options.domains.join(','),
    JETCEL_SWEEP_MS: '300',
    JETCEL_CLAIM_GRACE_MS: '1000',
    LOG_LEVEL: 'info',
    // Requests without a token are let in unless a test asks for the production policy (deny).
    JETCEL_AUTH_ANONYMOUS: 'allow',
    ...options.env,
  };
  const domains = await loadDomains({
    env: { ...env, JETCEL_DOMAINS: options.domains.join(',') },
    cwd: REPOSITORY_ROOT,
  });
  await migrateUp(database.url, [...composeDomains(domains).migrations]);
  const bus = await connectBus({ servers: natsUrls, name: 'stack-test' });
  // The same topology options the services derive from this environment, or they would see drift.
  await applyTopology(bus, defineTopology(serviceConfigFromEnv(env).topology));
  const pool = new pg.Pool({ connectionString: database.url, max: 3 });
  // An idle connection ended by the database's drop at stop() is not an error of the test.
  pool.on('error', () => undefined);
  return { nats, natsUrls, database, bus, pool, env };
}

export interface ExecutionView {
  id: string;
  executor: string;
  status: string;
  actor: string | null;
  errorMessage: string;
  steps: Array<{
    role: string;
    position: number;
    task: string;
    status: string;
    attempts: number;
    polls: number;
    errorMessage: string;
    result: unknown;
  }>;
}
