import { readKeyRing, readMaxTtl, signIdentityToken, type KeyRing } from '@jetcel/identity';
import { EXIT, UsageError } from '../exit-codes.ts';
import { intOption, stringOption } from '../global-options.ts';
import type { CommandSpec } from '../spec.ts';

export const tokenCommand: CommandSpec = {
  name: 'token',
  summary: 'mint an identity token locally with $JETCEL_AUTH_SECRET(S) (export JETCEL_TOKEN=$(jetcel token ...))',
  options: {
    actor: { type: 'string', help: 'who the token names (required)' },
    role: { type: 'string', multiple: true, help: 'a role (repeatable), e.g. admin' },
    ttl: { type: 'string', help: 'lifetime in seconds (default 3600, at most $JETCEL_AUTH_MAX_TTL or 86400)' },
  },
  async run(context) {
    const actor = stringOption(context.values, 'actor');
    if (!actor) throw new UsageError('token needs --actor');
    let keys: KeyRing | null;
    let maxTtlSeconds: number;
    try {
      keys = readKeyRing(context.env);
      maxTtlSeconds = readMaxTtl(context.env);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (!keys) throw new UsageError('token needs JETCEL_AUTH_SECRET or JETCEL_AUTH_SECRETS in the environment');
    const role = context.values.role;
    const roles = Array.isArray(role) ? role : [];
    const ttlSeconds = intOption(context.values, 'ttl', 1, maxTtlSeconds) ?? 3600;
    let token: string;
    try {
      token = await signIdentityToken({ actor, roles }, keys, { ttlSeconds, maxTtlSeconds });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
    context.output.out(context.json ? JSON.stringify({ token, actor, roles, expiresAt }) : token);
    return EXIT.ok;
  },
};
