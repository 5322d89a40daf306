import type { Logger } from '@jetcel/core';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function serialise(value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

/** JSON lines on stdout (one object per line), with fields bound by `child()`. */
export function createLogger(
  options: { level?: Level; bindings?: Record<string, unknown>; write?: (line: string) => void } = {},
): Logger {
  const threshold = LEVELS[options.level ?? (process.env.LOG_LEVEL as Level | undefined) ?? 'info'] ?? LEVELS.info;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const bindings = options.bindings ?? {};
  const log =
    (level: Level) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (LEVELS[level] < threshold) return;
      const entry: Record<string, unknown> = { level, time: new Date().toISOString(), msg: message, ...bindings };
      for (const [key, value] of Object.entries(fields ?? {})) entry[key] = serialise(value);
      write(JSON.stringify(entry));
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger({ ...options, bindings: { ...bindings, ...fields } }),
  };
}
