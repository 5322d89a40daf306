import { createHash } from 'node:crypto';
import { HEADERS, MAX_COMMAND_BYTES, okReply, type Reply } from '@jetcel/contracts';
import {
  IdempotencyConflictError,
  PayloadTooLargeError,
  UnknownSubjectError,
  ValidationError,
  type Logger,
  type ExecutorRegistry,
} from '@jetcel/core';
import type { Db, Tx } from '@jetcel/db';
import type { CommandContext, CommandDefinition } from './commands.ts';
import { errorReply } from './errors-to-reply.ts';
import { scheduleExecution } from './schedule.ts';
import { Progress } from './progress.ts';
import { cancelExecution } from './cancel.ts';
import type { TaskCatalog } from './queue-step.ts';

export interface CommandRequest {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

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
      commands: Array<CommandDefinition<never>>;
    },
  ) {
    this.#progress = new Progress({
      catalog: options.catalog,
      executors: options.executors ?? { get: () => undefined },
      logger: options.logger,
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

  async handle(request: CommandRequest): Promise<string> {
    const log = this.options.logger.child({ subject: request.subject });
    const started = performance.now();
    let reply: Reply;
    try {
      reply = await this.dispatch(request);
    } catch (error) {
      reply = errorReply(error, log);
    }
    log.info('request handled', {
      ok: reply.ok,
      ...(reply.ok ? {} : { code: reply.error.code }),
      ms: Math.round(performance.now() - started),
    });
    return JSON.stringify(reply);
  }

  private async dispatch(request: CommandRequest): Promise<Reply> {
    if (request.data.byteLength > MAX_COMMAND_BYTES)
      throw new PayloadTooLargeError(request.data.byteLength, MAX_COMMAND_BYTES);
    const command = this.#commands.get(request.subject);
    if (!command) throw new UnknownSubjectError(request.subject);
    const input = command.input.parse(parseJson(request.data));
    const actor = request.headers[HEADERS.actor] ?? null;
    const key = request.headers[HEADERS.idempotencyKey];
    return this.options.db.transaction(async (tx) => {
      if (command.kind === 'command' && key)
        return this.once(tx, request, key, () => this.run(tx, command, input, actor, request.subject));
      return this.run(tx, command, input, actor, request.subject);
    });
  }

  private async run(
    tx: Tx,
    command: CommandDefinition<unknown>,
    input: unknown,
    actor: string | null,
    subject: string,
  ): Promise<Reply> {
    const ctx: CommandContext = {
      tx,
      subject,
      actor,
      schedule: (executor, resource, params) =>
        scheduleExecution(tx, this.#progress, executor, { resource, params, actor }),
      cancelExecution: (id) => cancelExecution(tx, this.#progress, id),
    };
    return okReply(await command.handle(ctx, input));
  }

  /** Idempotency-Key: the first request stores its reply in its own transaction; repeats get it back. */
  private async once(tx: Tx, request: CommandRequest, key: string, run: () => Promise<Reply>): Promise<Reply> {
    if (key.length > 255) throw new ValidationError('Idempotency-Key is longer than 255 characters');
    const hash = createHash('sha256').update(request.data).digest('hex');
    const lookup = await tx.idempotency.begin(request.subject, key, hash);
    if (lookup.kind === 'conflict') throw new IdempotencyConflictError(key);
    if (lookup.kind === 'replay') return JSON.parse(lookup.reply) as Reply;
    const reply = await run();
    await tx.idempotency.complete(request.subject, key, JSON.stringify(reply));
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
