import { ensureSecrets } from './secrets.ts';

// One-shot job run before every other compose service: generates on first start the secrets that
// must differ between installs, into the `secrets` volume, and reuses them on every later start.
const dir = process.env.JETCEL_SECRETS_DIR || '/secrets';
const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@postgres:5432/jetcel';
// As root (compose runs it so, the volume being root's when new): the files go to the image's
// `node` user, which every jetcel service runs as.
const owner = process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : undefined;

try {
  const report = await ensureSecrets(dir, { databaseUrl, ...(owner ? { owner } : {}) });
  process.stdout.write(
    report.created.length === 0
      ? `secrets: reusing the secrets in ${dir}\n`
      : `secrets: generated ${report.created.join(', ')} in ${dir}\n`,
  );
  if (report.adminPassword)
    process.stdout.write(
      '\n' +
        '  jetcel dashboard: http://localhost:8080\n' +
        `  user: admin   password: ${report.adminPassword}\n` +
        '  (printed on this first start only; it is stored as a hash)\n\n',
    );
} catch (error) {
  process.stderr.write(`secrets: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
