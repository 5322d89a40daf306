// JSON lines on stdout, in the same shape as the other services' logs. The dashboard does not load
// @jetcel/runtime (and with it the ORM) just for this: it starts in a fraction of the time.
import type { Logger } from '@jetcel/core';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

export function jsonLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  bindings: Record<string, unknown> = {},
): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(level as Level));
  const at =
    (name: Level) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      if (LEVELS.indexOf(name) < threshold) return;
      const entry = { level: name, time: new Date().toISOString(), msg, ...bindings, ...fields };
      process.stdout.write(
        `${JSON.stringify(entry, (_key, value: unknown) => (value instanceof Error ? value.message : value))}\n`,
      );
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => jsonLogger(level, { ...bindings, ...fields }),
  };
}
