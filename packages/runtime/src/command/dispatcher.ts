import { createHash } from 'node:crypto';
import { HEADERS, MAX_COMMAND_BYTES, okReply, type Reply } from '@jetcel/contracts';
import {
  IdempotencyConflictError,
  PayloadTooLargeError,
  UnknownSubjectError,
  ValidationError,
  type Logger,
  type ExecutorRegistry,
  type RuntimeMetrics,
  UnavailableError,
} from '@jetcel/core';
import type { IncomingRequest } from '@jetcel/bus';
import type { Db, Tx } from '@jetcel/db';
import type { AuthConfig } from '@jetcel/identity';
import type { CommandDefinition } from './commands.ts';
import { commandContext } from './context.ts';
import { inSpan } from '@jetcel/telemetry';
import { errorReply } from './errors-to-reply.ts';
import { headerValue, KEY_PATTERN } from './headers.ts';
import { DEVELOPMENT_AUTH, identifyCaller, requireAdmin, type Caller } from './identity.ts';
import { Progress } from '../execution/progress.ts';
import { ADMIN_READS, type ReadPolicy } from './read-policy.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';
import type { ActorRateLimiter } from './rate-limit.ts';

/** Validates, runs and answers commands and queries, each in its own transaction. */
export class CommandDispatcher {
  readonly #commands = new Map<string, CommandDefinition<unknown>>();
  readonly #progress: Progress;

  constructor(
    private readonly options: {
      db: Db;
      catalog: TaskCatalog;
      executors?: Pick<ExecutorRegistry, 'get'>;
      logger: Logger;
      /** Past this many unpublished outbox rows, commands answer UNAVAILABLE (queries still work). */
      backlogLimit?: number;
      commands: Array<CommandDefinition<never>>;
      /** Identity tokens and the anonymous policy; development (allow, no secret) by default. */
      auth?: AuthConfig;
      /** Who may read which resource; only admins when not given. */
      readPolicy?: ReadPolicy;
      /** Counts requests per subject and reply code. */
      metrics?: RuntimeMetrics;
      /** Requests per actor; checked right after the caller is identified, before any other work. */
      rateLimiter?: ActorRateLimiter;
      /** A step with more plan nodes than this ahead of it takes its queue's long lane. @defaultValue 8 */
      longPlanSteps?: number;
      /** The fallback timer of a throttled newcomer parked by its schedule (the throttle's `recheckMs`). @defaultValue 5000 */
      throttleRecheckMs?: number;
    },
  ) {
    this.#progress = new Progress({
      catalog: options.catalog,
      executors: options.executors ?? { get: () => undefined },
      logger: options.logger,
      longPlanSteps: options.longPlanSteps,
      ...(options.throttleRecheckMs === undefined ? {} : { throttleRecheckMs: options.throttleRecheckMs }),
    });
    for (const command of options.commands) {
      if (this.#commands.has(command.subject)) throw new TypeError(`Two handlers for ${command.subject}`);
      this.#commands.set(command.subject, command);
    }
  }

  subjects(): string[] {
    return [...this.#commands.keys()].sort();
  }

  /** Answers a request that is too large without ever parsing it. */
  tooLarge(size: number): string {
    return JSON.stringify(errorReply(new PayloadTooLargeError(size, MAX_COMMAND_BYTES), this.options.logger));
  }

  /** Answers a request refused because the process has `limit` requests in flight, without reading it. */
  busy(subject: string, inFlight: number, limit: number): string {
    const known = this.#commands.has(subject) ? subject : 'unknown';
    this.options.metrics?.commandHandled({ subject: known, code: 'UNAVAILABLE', seconds: 0 });
    const error = new UnavailableError(`${inFlight} requests are in flight (limit ${limit}); retry later`);
    return JSON.stringify(errorReply(error, this.options.logger));
  }

  async handle(request: IncomingRequest): Promise<string> {
    const log = this.options.logger.child({ subject: request.subject });
    const started = performance.now();
    // Span names and metric labels use only subjects this executor serves: a client cannot invent them.
    const subject = this.#commands.has(request.subject) ? request.subject : 'unknown';
    // The command's span: a child of the client's `traceparent`, the parent of every step it queues.
    const reply = await inSpan(
      subject,
      { kind: 'server', parentHeaders: request.headers, attributes: { 'messaging.destination.name': subject } },
      async (span) => {
        const answer = await this.dispatch(request).catch((error: unknown) => errorReply(error, log));
        span.set({ 'jetcel.reply.code': answer.ok ? 'OK' : answer.error.code });
        return answer;
      },
    );
    const seconds = (performance.now() - started) / 1000;
    log.info('request handled', {
      ok: reply.ok,
      ...(reply.ok ? {} : { code: reply.error.code }),
      ms: Math.round(seconds * 1000),
    });
    this.options.metrics?.commandHandled({ subject, code: reply.ok ? 'OK' : reply.error.code, seconds });
    return JSON.stringify(reply);
  }

  private async dispatch(request: IncomingRequest): Promise<Reply> {
    if (request.data.byteLength > MAX_COMMAND_BYTES)
      throw new PayloadTooLargeError(request.data.byteLength, MAX_COMMAND_BYTES);
    // Before anything else: under `deny`, no command or query is reachable without a valid token.
    const caller = await identifyCaller(request.headers, this.options.auth ?? DEVELOPMENT_AUTH);
    this.options.rateLimiter?.admit(caller);
    const command = this.#commands.get(request.subject);
    if (!command) throw new UnknownSubjectError(request.subject);
    if (command.access === 'admin') requireAdmin(caller, 'use', { type: 'subject', id: request.subject });
    if (command.kind === 'command') await this.checkBacklog();
    const input = command.input.parse(rejectNul(parseJson(request.data)));
    const key = headerValue(request.headers, HEADERS.idempotencyKey, KEY_PATTERN, 'Idempotency-Key');
    const work = async (tx: Tx): Promise<Reply> => {
      if (command.kind === 'command' && key)
        return this.once(tx, request, key, caller, () => this.run(tx, command, input, caller, request.subject));
      return this.run(tx, command, input, caller, request.subject);
    };
    return command.lean ? this.options.db.leanTransaction(work) : this.options.db.transaction(work);
  }

  private async run(
    tx: Tx,
    command: CommandDefinition<unknown>,
    input: unknown,
    caller: Caller,
    subject: string,
  ): Promise<Reply> {
    const context = commandContext(
      tx,
      subject,
      caller,
      this.#progress,
      this.options.readPolicy ?? ADMIN_READS,
      this.options.catalog,
    );
    return okReply(await command.handle(context, input));
  }

  #backlog = { count: 0, readAt: 0 };

  /** Back-pressure: a queue that cannot take more (stream full, broker away) makes commands wait at the door. */
  private async checkBacklog(): Promise<void> {
    const limit = this.options.backlogLimit;
    if (limit === undefined) return;
    if (Date.now() - this.#backlog.readAt > 1000) {
      this.#backlog = {
        count: await this.options.db.transaction((tx) => tx.outbox.unpublishedCount()),
        readAt: Date.now(),
      };
    }
    if (this.#backlog.count > limit) {
      throw new UnavailableError(
        `${this.#backlog.count} task messages are waiting to be published (limit ${limit}); retry later`,
      );
    }
  }

  /** Idempotency-Key: the first request stores its reply in its own transaction; repeats get it back. */
  private async once(
    tx: Tx,
    request: IncomingRequest,
    key: string,
    caller: Caller,
    run: () => Promise<Reply>,
  ): Promise<Reply> {
    // Keys are per actor: another caller's key of the same name is another key (no replay, no conflict).
    const hash = createHash('sha256').update(request.data).digest('hex');
    const lookup = await tx.idempotency.begin(caller.actor, request.subject, key, hash);
    if (lookup.kind === 'conflict') throw new IdempotencyConflictError(key);
    if (lookup.kind === 'replay') return JSON.parse(lookup.reply) as Reply;
    const reply = await run();
    await tx.idempotency.complete(caller.actor, request.subject, key, JSON.stringify(reply));
    return reply;
  }
}

function parseJson(data: Uint8Array): unknown {
  const text = Buffer.from(data).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Payload is not valid JSON: ${(error as Error).message}`);
  }
}

const MAX_DEPTH = 64;

/**
 * PostgreSQL text cannot hold U+0000: refuse it in any string of a command, with a clear error.
 * Iterative (a hostile payload can nest 100,000 levels deep), and nesting itself is bounded.
 */
function rejectNul(root: unknown): unknown {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: '$', depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path, depth } = next;
    if (depth > MAX_DEPTH) throw new ValidationError(`The payload nests deeper than ${MAX_DEPTH} levels`, { path });
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw new ValidationError(`${path} contains a NUL character`, { path });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: `${path}[${index}]`, depth: depth + 1 }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\u0000')) throw new ValidationError(`${path} has a key containing a NUL character`, { path });
        pending.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
  return root;
}
