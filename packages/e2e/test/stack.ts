import { startCloud } from '@jetcel/cloud';
import {
  Stack as DomainStack,
  startStackParts,
  type StackOptions as DomainStackOptions,
  type StackParts,
} from '@jetcel/testing-kit';

export { dataOf, type ExecutionView, type Reply } from '@jetcel/testing-kit';

export interface StackOptions extends Omit<DomainStackOptions, 'domains'> {
  buildDelayMs?: number;
  /** The domains migrated at start and loaded by the services. @defaultValue ['@jetcel/reference'] */
  domains?: readonly string[];
}

/**
 * The reference domain's stack: the kit's Stack (own nats-server or `natsUrls`, own database, the
 * stock services as processes) with the reference domain and an in-process simulated cloud.
 */
export class Stack extends DomainStack {
  private constructor(
    parts: StackParts,
    readonly cloud: Awaited<ReturnType<typeof startCloud>>,
  ) {
    super(parts);
  }

  static override async start(options: StackOptions = {}): Promise<Stack> {
    const cloud = await startCloud({
      buildDelayMs: options.buildDelayMs ?? 300,
      deleteDelayMs: 100,
      actionDelayMs: 100,
    });
    try {
      const parts = await startStackParts({
        ...options,
        domains: options.domains ?? ['@jetcel/reference'],
        env: { CLOUD_URL: cloud.url, INSTANCE_POLL_INTERVAL_MS: '150', ...options.env },
      });
      return new Stack(parts, cloud);
    } catch (error) {
      await cloud.close().catch(() => {});
      throw error;
    }
  }

  async instance(id: string): Promise<Record<string, unknown>> {
    const reply = await this.request('query.instance.get', { id });
    if (!reply.ok) throw new Error(`instance ${id}: ${JSON.stringify(reply.error)}`);
    return reply.data as Record<string, unknown>;
  }

  /** Waits (reading the database directly, so it works while services are down) for an instance's state. */
  waitForState(id: string, state: string, timeoutMs = 20_000): Promise<InstanceRow> {
    return this.waitForRow<InstanceRow>('ref_instance', id, state, timeoutMs);
  }

  override publishOrphanTask(task = 'instance.poll_server'): Promise<string> {
    return super.publishOrphanTask(task);
  }

  /** Sets the live limit of the reference domain's build throttle for one cloud ("*" for every cloud; negative: unthrottled). */
  override setThrottleLimit(scope: string, limit: number, kind = 'instance_provision'): Promise<void> {
    return super.setThrottleLimit(scope, limit, kind);
  }

  protected override async diagnosis(resourceId: string): Promise<Record<string, unknown>> {
    const barriers = await fetch(`${this.cloud.url}/barriers`)
      .then((response) => response.json())
      .catch(() => null);
    return { ...(await super.diagnosis(resourceId)), barriers };
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

  /** Adds a fault rule to the simulated cloud. */
  async fault(rule: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${this.cloud.url}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
    if (!response.ok) throw new Error(`fault rejected: ${await response.text()}`);
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.cloud.close().catch(() => {});
  }
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
