import type { ClientOptions } from '@jetcel/client';
import { clientOptionsFromEnv } from '@jetcel/client';
import { UsageError } from './exit-codes.ts';
import type { OptionSpec, OptionValues } from './spec.ts';

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  server: {
    type: 'string',
    short: 's',
    help: 'NATS server URL(s), comma-separated (default $NATS_URL or nats://127.0.0.1:4222)',
  },
  user: { type: 'string', help: 'NATS user (default $NATS_USER), e.g. operator' },
  password: { type: 'string', help: 'NATS password (default $NATS_PASS)' },
  token: { type: 'string', help: 'identity token sent as Authorization: Bearer (default $JETCEL_TOKEN)' },
  actor: { type: 'string', help: 'Actor header on commands (when identities are not enforced)' },
  json: { type: 'boolean', help: 'machine-readable output: one JSON document (tail: one per line)' },
  timeout: { type: 'string', help: 'request timeout in ms (default 10000)' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

/** A whole number in a flag, with bounds; a usage error otherwise. */
export function intOption(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${String(raw)}"`);
  return Number(raw);
}

export const stringOption = (values: OptionValues, name: string): string | undefined => {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
};

/** Client options: flags first, then the services' environment (NATS_URL, NATS_USER, NATS_PASS, JETCEL_TOKEN). */
export function clientOptions(values: OptionValues, env: NodeJS.ProcessEnv): ClientOptions {
  const server = stringOption(values, 'server');
  const user = stringOption(values, 'user');
  const pass = stringOption(values, 'password');
  const token = stringOption(values, 'token');
  const actor = stringOption(values, 'actor');
  const timeoutMs = intOption(values, 'timeout', 1, 3_600_000);
  return {
    ...clientOptionsFromEnv(env),
    name: 'jetcel-cli',
    ...(server ? { servers: server.split(',').map((url) => url.trim()) } : {}),
    ...(user ? { user } : {}),
    ...(pass ? { pass } : {}),
    ...(token ? { token } : {}),
    ...(actor ? { actor } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  };
}
