// `pnpm run token --actor alice [--role admin]… [--ttl 3600]`: prints an identity token signed with
// JETCEL_AUTH_SECRET (or the file JETCEL_AUTH_SECRET_FILE names, as in compose's containers), for
// `nats req -H "Authorization: Bearer $TOKEN" …` (the operator CLI's `jetcel token` does the same).
// The image runs its bundle: `node scripts/dist/token.js` (`pnpm build token`).
import { parseArgs } from 'node:util';
import { resolveSecretFiles, signIdentityToken } from '@jetcel/identity';

function main(): number {
  const { values } = parseArgs({
    options: {
      actor: { type: 'string' },
      role: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string', default: '3600' },
    },
  });
  const secret = resolveSecretFiles(process.env).JETCEL_AUTH_SECRET?.trim();
  const ttlSeconds = Number(values.ttl);
  if (!values.actor || !secret || !Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    process.stderr.write(
      'usage: JETCEL_AUTH_SECRET=… pnpm run token --actor <name> [--role admin]… [--ttl <seconds>]\n' +
        '(the secret is the executor’s; with compose, run `node scripts/dist/token.js` in its container)\n',
    );
    return 2;
  }
  process.stdout.write(`${signIdentityToken({ actor: values.actor, roles: values.role }, secret, { ttlSeconds })}\n`);
  return 0;
}

process.exitCode = main();
