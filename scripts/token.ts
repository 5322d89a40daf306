// `pnpm run token --actor alice [--role admin]… [--ttl 3600]`: prints an identity token signed with
// JETCEL_AUTH_SECRET (or the newest key of JETCEL_AUTH_SECRETS; either may come from a *_FILE, as in
// compose's containers), for `nats req -H "Authorization: Bearer $TOKEN" …` (the operator CLI's
// `jetcel token` does the same). The image runs its bundle: `node scripts/dist/token.js` (`pnpm build token`).
import { parseArgs } from 'node:util';
import { readKeyRing, readMaxTtl, resolveSecretFiles, signIdentityToken } from '@jetcel/identity';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      actor: { type: 'string' },
      role: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string', default: '3600' },
    },
  });
  const env = resolveSecretFiles(process.env);
  const keys = readKeyRing(env);
  const maxTtlSeconds = readMaxTtl(env);
  const ttlSeconds = Number(values.ttl);
  if (!values.actor || !keys || !Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > maxTtlSeconds) {
    process.stderr.write(
      `usage: JETCEL_AUTH_SECRET=… pnpm run token --actor <name> [--role admin]… [--ttl <seconds, at most ${maxTtlSeconds}>]\n` +
        '(or JETCEL_AUTH_SECRETS="kid:secret,…"; the secret is the executor’s, see docs/operating.md "Identities";\n' +
        ' with compose, run `node scripts/dist/token.js` in its container)\n',
    );
    return 2;
  }
  const token = await signIdentityToken({ actor: values.actor, roles: values.role }, keys, {
    ttlSeconds,
    maxTtlSeconds,
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}
