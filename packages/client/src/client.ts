import { connectBus, type Bus } from '@jetcel/bus';
import {
  commandSubject,
  querySubject,
  type DeadLetterView,
  type ExecutionView,
  type LeaseListView,
  type QueueStatsView,
  type ResourceItemView,
  type ResourceListView,
  type ScheduleListView,
} from '@jetcel/contracts';
import { JetcelClientError } from './errors.ts';
import { followExecution, type FollowOptions } from './follow.ts';
import type { ClientOptions } from './options.ts';
import { tailEvents, type EventFilter, type EventTail } from './tail.ts';
import { call, type CallOptions } from './transport.ts';

export interface ExecutionFilter {
  resourceType?: string;
  resourceId?: string;
  status?: 'running' | 'cancel_requested' | 'succeeded' | 'failed' | 'cancelled';
  limit?: number;
}

export interface ResourceFilter {
  type?: string;
  state?: string;
  /** Items per type (0: counts only). @defaultValue 50 */
  limit?: number;
}

export interface DeadLetterFilter {
  reason?: string;
  /** Only letters not yet re-driven. */
  pending?: boolean;
  limit?: number;
}

export interface RetentionStatsView {
  rows: Record<string, unknown>;
  retention: Record<string, number>;
}

/**
 * jetcel's operator API over NATS request-reply (framework-free: the CLI and the dashboard use it).
 * Every `cmd.*` carries an Idempotency-Key; every call carries the token when one is configured.
 * Failures are JetcelClientError: kind 'reply' with the executor's code, or kind 'transport'.
 */
export class JetcelClient {
  private constructor(
    readonly bus: Bus,
    private readonly options: ClientOptions,
    private readonly ownsBus: boolean,
  ) {}

  /** Connects to NATS; a failure is a JetcelClientError with code CONNECTION. */
  static async connect(options: ClientOptions = {}): Promise<JetcelClient> {
    try {
      const bus = await connectBus({
        servers: options.servers ?? 'nats://127.0.0.1:4222',
        name: options.name ?? 'jetcel-client',
        ...(options.user === undefined ? {} : { user: options.user }),
        ...(options.pass === undefined ? {} : { pass: options.pass }),
      });
      return new JetcelClient(bus, options, true);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new JetcelClientError(
        'transport',
        'CONNECTION',
        `Cannot connect to NATS: ${message}`,
        '',
        true,
        undefined,
        {
          cause: error,
        },
      );
    }
  }

  /** Wraps a connection the caller owns (close() then leaves it open). */
  static fromBus(bus: Bus, options: ClientOptions = {}): JetcelClient {
    return new JetcelClient(bus, options, false);
  }

  /** Any `cmd.*` or `query.*` subject; resolves with the reply's `data`. */
  request<T = unknown>(subject: string, body: unknown = {}, options: CallOptions = {}): Promise<T> {
    return call(this.bus, this.options, subject, body, options) as Promise<T>;
  }

  getExecution(id: string): Promise<ExecutionView> {
    return this.request(querySubject('execution', 'get'), { id });
  }

  async listExecutions(filter: ExecutionFilter = {}): Promise<ExecutionView[]> {
    return (await this.request<{ items: ExecutionView[] }>(querySubject('execution', 'list'), filter)).items;
  }

  cancelExecution(id: string, options: CallOptions = {}): Promise<ExecutionView> {
    return this.request(commandSubject('execution', 'cancel'), { id }, options);
  }

  listResources(filter: ResourceFilter = {}): Promise<ResourceListView> {
    return this.request(querySubject('resource', 'list'), filter);
  }

  /** One resource, if the caller may read it (NOT_FOUND otherwise). */
  getResource(type: string, id: string): Promise<ResourceItemView> {
    return this.request(querySubject('resource', 'get'), { type, id });
  }

  queueStats(): Promise<QueueStatsView> {
    return this.request(querySubject('queue', 'stats'), {});
  }

  listLeases(filter: { kind?: string; scope?: string } = {}): Promise<LeaseListView> {
    return this.request(querySubject('lease', 'list'), filter);
  }

  listSchedules(): Promise<ScheduleListView> {
    return this.request(querySubject('schedule', 'list'), {});
  }

  async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetterView[]> {
    return (await this.request<{ items: DeadLetterView[] }>(querySubject('dead_letter', 'list'), filter)).items;
  }

  redriveDeadLetter(id: string, options: CallOptions = {}): Promise<DeadLetterView> {
    return this.request(commandSubject('dead_letter', 'redrive'), { id }, options);
  }

  retentionStats(): Promise<RetentionStatsView> {
    return this.request(querySubject('retention', 'stats'), {});
  }

  /** Polls query.execution.get until the execution is terminal; see FollowOptions. */
  followExecution(id: string, options: FollowOptions = {}): Promise<ExecutionView> {
    return followExecution(() => this.getExecution(id), options);
  }

  /** Live events (core subscription on events.<type>.<id>.<event>): the operator role may subscribe. */
  tailEvents(filter: EventFilter = {}): EventTail {
    return tailEvents(this.bus, filter);
  }

  async close(): Promise<void> {
    if (this.ownsBus) await this.bus.close();
  }
}
