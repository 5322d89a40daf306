import { signIdentityToken } from '@jetcel/identity';
import { EXIT, UsageError } from '../exit-codes.ts';
import { intOption, stringOption } from '../global-options.ts';
import type { CommandSpec } from '../spec.ts';

export const tokenCommand: CommandSpec = {
  name: 'token',
  summary: 'mint an identity token locally with $JETCEL_AUTH_SECRET (export JETCEL_TOKEN=$(jetcel token ...))',
  options: {
    actor: { type: 'string', help: 'who the token names (required)' },
    role: { type: 'string', multiple: true, help: 'a role (repeatable), e.g. admin' },
    ttl: { type: 'string', help: 'lifetime in seconds (default 3600)' },
  },
  async run(context) {
    const actor = stringOption(context.values, 'actor');
    if (!actor) throw new UsageError('token needs --actor');
    const secret = context.env.JETCEL_AUTH_SECRET;
    if (!secret) throw new UsageError('token needs JETCEL_AUTH_SECRET in the environment');
    const role = context.values.role;
    const roles = Array.isArray(role) ? role : [];
    const ttlSeconds = intOption(context.values, 'ttl', 1, 31 * 24 * 3600) ?? 3600;
    let token: string;
    try {
      token = signIdentityToken({ actor, roles }, secret, { ttlSeconds });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
    context.output.out(context.json ? JSON.stringify({ token, actor, roles, expiresAt }) : token);
    return EXIT.ok;
  },
};
