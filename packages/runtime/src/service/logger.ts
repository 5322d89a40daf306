import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type pinoPretty from 'pino-pretty';
import type { Logger } from '@jetcel/core';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

export interface LoggerOptions {
  /** @defaultValue LOG_LEVEL, else 'info' */
  level?: Level;
  /** Fields on every line (a service's name and pid). */
  bindings?: Record<string, unknown>;
  /** Receives each line (without its newline) instead of stdout: for tests. */
  write?: (line: string) => void;
  /** Human-readable lines. @defaultValue stdout is a terminal, or LOG_PRETTY=1 */
  pretty?: boolean;
  /** Extra fields computed for each line (e.g. the active trace and span ids). */
  mixin?: () => Record<string, unknown>;
}

function serialise(value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

function levelFrom(value: string | undefined): Level {
  return LEVELS.find((level) => level === value) ?? 'info';
}

/** Hands each written line, without its newline, to `write`. */
function lineSink(write: (line: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.length > 0) write(line);
      done();
    },
  });
}

/**
 * pino-pretty is loaded only when a terminal wants it: services in containers never pay for it.
 * Under tsx this module is ESM and has no `require`; a bundle (`pnpm build`) defines one, and
 * esbuild then carries pino-pretty inside the bundle, still evaluated only on this call.
 */
function loadPretty(): typeof pinoPretty {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a literal require() is what esbuild bundles
  if (typeof require === 'function') return require('pino-pretty') as typeof pinoPretty;
  return createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;
}

function destination(options: LoggerOptions): DestinationStream {
  const sink = options.write ? lineSink(options.write) : undefined;
  const wantPretty = options.pretty ?? (!sink && (process.stdout.isTTY === true || process.env.LOG_PRETTY === '1'));
  // Synchronous writes: a service that logs "stopped" and exits at once loses no line.
  if (wantPretty)
    return loadPretty()({
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ...(sink ? { destination: sink, colorize: false } : {}),
    });
  return sink ?? pino.destination({ dest: 1, sync: true });
}

/**
 * JSON lines on stdout (pino; pretty in a terminal), one object per line with `level` as a label,
 * `time` as an ISO string and `msg`, plus the fields bound by `child()` and those of the call.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const root = pino(
    {
      level: options.level ?? levelFrom(process.env.LOG_LEVEL),
      base: null,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(options.mixin ? { mixin: options.mixin } : {}),
    },
    destination(options),
  );
  return new BoundLogger(root, undefined, options.bindings ?? {});
}

/**
 * Bindings are merged here (a later child overrides a field) so no line repeats a key. A worker
 * makes a child logger per task and at the usual levels most of them never write, so a child is
 * one small object: its fields are merged with its parent's, and the pino child made, only at its
 * first line that passes the level.
 */
class BoundLogger implements Logger {
  readonly #root: Pino;
  readonly #parent: BoundLogger | undefined;
  readonly #fields: Record<string, unknown>;
  #bound: Pino | undefined;

  constructor(root: Pino, parent: BoundLogger | undefined, fields: Record<string, unknown>) {
    this.#root = root;
    this.#parent = parent;
    this.#fields = fields;
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.#write('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.#write('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.#write('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.#write('error', message, fields);
  }

  child(fields: Record<string, unknown>): Logger {
    return new BoundLogger(this.#root, this, fields);
  }

  /** Every field bound from the root down to this logger, a later one overriding an earlier one. */
  bindings(): Record<string, unknown> {
    return this.#parent ? { ...this.#parent.bindings(), ...this.#fields } : this.#fields;
  }

  #write(level: Level, message: string, fields: Record<string, unknown> | undefined): void {
    if (!this.#root.isLevelEnabled(level)) return;
    const target = this.#target();
    if (!fields) return target[level](message);
    const entry: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) entry[key] = serialise(value);
    target[level](entry, message);
  }

  #target(): Pino {
    if (this.#bound) return this.#bound;
    const bindings = this.bindings();
    this.#bound = Object.keys(bindings).length > 0 ? this.#root.child(bindings) : this.#root;
    return this.#bound;
  }
}
