import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { applyTopology, connectBus, defineTopology, publish, requestJson, type Bus } from '@jetcel/bus';
import { startCloud } from '@jetcel/cloud';
import { FRAMEWORK_MIGRATIONS, migrateUp } from '@jetcel/db';
import { referenceMigrations } from '@jetcel/reference';
import { serviceConfigFromEnv } from '@jetcel/runtime';
import {
  createTestDatabase,
  eventually,
  spawnService,
  startNats,
  type NatsServerHandle,
  type ServiceProcess,
  type TestDatabase,
} from '@jetcel/testing';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface StackOptions {
  /** Extra environment for every service process. */
  env?: Record<string, string>;
  buildDelayMs?: number;
  /**
   * Run on these NATS servers (e.g. a `startNatsCluster()`'s `urls`) instead of starting a private
   * nats-server: the test client connects with all of them and the services get
   * `NATS_URL=<urls joined by ,>`. The caller owns the servers; `stop()` leaves them running.
   */
  natsUrls?: string[];
  /**
   * Use this database (e.g. on a private `startPostgresCluster()` for outage tests) instead of a
   * fresh one on the machine's PostgreSQL; it is migrated here, and dropped by `stop()` if `drop` is given.
   */
  database?: TestDatabase;
}

/**
 * A whole jetcel on real servers: its own nats-server (random port, temp store) or the given
 * `natsUrls`, its own PostgreSQL database, an in-process simulated cloud, and services as real
 * processes.
 */
export class Stack {
  readonly services: ServiceProcess[] = [];
  /** Headers every request of the stack's helpers carries (e.g. an identity token under `deny`). */
  requestHeaders: Record<string, string> = {};
  readonly #nats: NatsServerHandle | undefined;
  private constructor(
    nats: NatsServerHandle | undefined,
    /** Every NATS URL the test client and the services use. */
    readonly natsUrls: string[],
    readonly database: TestDatabase,
    readonly cloud: Awaited<ReturnType<typeof startCloud>>,
    readonly bus: Bus,
    readonly pool: pg.Pool,
    readonly env: Record<string, string>,
  ) {
    this.#nats = nats;
  }

  /** The stack's own nats-server; throws for a stack started with `natsUrls`. */
  get nats(): NatsServerHandle {
    if (!this.#nats)
      throw new Error('this stack runs on external NATS servers (natsUrls): it has no nats-server of its own');
    return this.#nats;
  }

  static async start(options: StackOptions = {}): Promise<Stack> {
    if (options.natsUrls?.length === 0) throw new TypeError('natsUrls must list at least one server');
    const nats = options.natsUrls ? undefined : await startNats();
    const natsUrls = options.natsUrls ?? (nats ? [nats.url] : []);
    const database = options.database ?? (await createTestDatabase({ prefix: 'e2e' }));
    await migrateUp(database.url, [FRAMEWORK_MIGRATIONS, referenceMigrations]);
    const cloud = await startCloud({
      buildDelayMs: options.buildDelayMs ?? 300,
      deleteDelayMs: 100,
      actionDelayMs: 100,
    });
    const bus = await connectBus({ servers: natsUrls, name: 'e2e-test' });
    const env: Record<string, string> = {
      NATS_URL: natsUrls.join(','),
      DATABASE_URL: database.url,
      CLOUD_URL: cloud.url,
      INSTANCE_POLL_INTERVAL_MS: '150',
      JETCEL_SWEEP_MS: '300',
      JETCEL_CLAIM_GRACE_MS: '1000',
      LOG_LEVEL: 'info',
      // Requests without a token are let in unless a test asks for the production policy (deny).
      JETCEL_AUTH_ANONYMOUS: 'allow',
      ...options.env,
    };
    // The same topology options the services derive from this environment, or they would see drift.
    await applyTopology(bus, defineTopology(serviceConfigFromEnv(env).topology));
    const pool = new pg.Pool({ connectionString: database.url, max: 3 });
    // An idle connection ended by the database's drop at stop() is not an error of the test.
    pool.on('error', () => undefined);
    return new Stack(nats, natsUrls, database, cloud, bus, pool, env);
  }

  async spawn(
    service: 'executor' | 'worker' | 'beat',
    options: { queue?: string; env?: Record<string, string>; readyTimeoutMs?: number } = {},
  ): Promise<ServiceProcess> {
    const args = service === 'worker' ? ['--queue', options.queue ?? 'regular'] : [];
    const process = await spawnService({
      cwd: resolve(root, 'services', service),
      entry: 'src/main.ts',
      args,
      env: { ...this.env, ...options.env },
      readyLine: new RegExp(`"${service} ready"`),
      // generous: on a busy machine, several services compile their TypeScript at once
      timeoutMs: options.readyTimeoutMs ?? 60_000,
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

  async sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(text, params)).rows;
  }

  async instance(id: string): Promise<Record<string, unknown>> {
    const reply = await this.request('query.instance.get', { id });
    if (!reply.ok) throw new Error(`instance ${id}: ${JSON.stringify(reply.error)}`);
    return reply.data as Record<string, unknown>;
  }

  /** Waits (reading the database directly, so it works while services are down) for a state. */
  async waitForState(id: string, state: string, timeoutMs = 20_000): Promise<InstanceRow> {
    try {
      return await eventually(
        async () => {
          const rows = await this.sql<InstanceRow>('select * from ref_instance where id = $1', [id]);
          return rows[0]?.state === state ? rows[0] : undefined;
        },
        { timeoutMs, message: `instance ${id} never reached ${state}` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await this.diagnose(id)}`, { cause: error });
    }
  }

  /**
   * Publishes a task message that names no known step (a worker dead-letters it as UNATTRIBUTABLE),
   * or, with an unknown task name, one that waits out the grace period (UNKNOWN_TASK). Returns the payload.
   */
  async publishOrphanTask(task = 'instance.poll_server'): Promise<string> {
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

  /** Sets the live limit of the reference domain's build throttle for one cloud ("*" for every cloud; negative: unthrottled). */
  async setThrottleLimit(scope: string, limit: number, kind = 'instance_provision'): Promise<void> {
    await this.sql(
      `insert into jetcel_throttle_limit (kind, scope, "limit") values ($1, $2, $3)
       on conflict (kind, scope) do update set "limit" = excluded."limit"`,
      [kind, scope, limit],
    );
  }

  /** What a stuck resource's executions look like: for the failure message of a test. */
  async diagnose(resourceId: string): Promise<string> {
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
    const barriers = await fetch(`${this.cloud.url}/barriers`)
      .then((response) => response.json())
      .catch(() => null);
    return JSON.stringify({ steps, unpublished: outbox, waiters, barriers }, null, 1);
  }

  /** Sends a command that must succeed and returns its data. */
  async ok<T = Record<string, unknown>>(subject: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return dataOf<T>(await this.request(subject, body, headers));
  }

  /** Creates an instance and waits for it to be OK. */
  async readyInstance(name: string, extra: Record<string, unknown> = {}): Promise<{ id: string; executionId: string }> {
    const created = await this.ok<{ id: string; executionId: string }>('cmd.instance.create', {
      name,
      cloudSettingsId: 'default',
      ...extra,
    });
    await this.waitForState(created.id, 'OK');
    return created;
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

  /** Adds a fault rule to the simulated cloud. */
  async fault(rule: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${this.cloud.url}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
    if (!response.ok) throw new Error(`fault rejected: ${await response.text()}`);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.services.map((service) => service.stop()));
    await this.bus.close().catch(() => {});
    await this.pool.end().catch(() => {});
    await this.cloud.close().catch(() => {});
    await this.database.drop().catch(() => {});
    await this.#nats?.[Symbol.asyncDispose]().catch(() => {});
  }
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

export interface InstanceRow {
  id: string;
  name: string;
  state: string;
  runtime_state: string;
  backend_id: string | null;
  error_message: string;
  error_traceback: string;
  cloud_settings_id: string;
  version: number;
}

export type Reply =
  | { ok: true; data: unknown }
  | { ok: false; error: { code: string; message: string; retryable: boolean; details?: unknown } };

export function dataOf<T = Record<string, unknown>>(reply: Reply): T {
  if (!reply.ok) throw new Error(`expected ok reply, got ${JSON.stringify(reply.error)}`);
  return reply.data as T;
}
