// `pnpm build [name…]`: each service bundled with esbuild into services/<name>/dist/main.js (what
// the image and compose.yaml run), and the bench's jetcel worker into packages/bench/dist/. The
// sources stay the truth: package `exports`, tests and `pnpm dev` run them under tsx.
//
// Why bundles: under `node --import tsx` a worker carries tsx's loader thread, a transform and a
// source map per module and ~1,300 module records; the bundle is one module (docs/design.md, "Storage and runtime").
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BuildTarget {
  name: string;
  entry: string;
  /** The entry's bundle; the chunks it imports on demand sit beside it in chunks/. */
  outfile: string;
}

/** Every service with a src/main.ts, `token` (signs identity tokens in the image) and `bench` (the jetcel worker the bench forks). */
export function buildTargets(): BuildTarget[] {
  const services = readdirSync(resolve(root, 'services'))
    .filter((name) => existsSync(resolve(root, 'services', name, 'src/main.ts')))
    .map((name) => ({
      name,
      entry: resolve(root, 'services', name, 'src/main.ts'),
      outfile: resolve(root, 'services', name, 'dist/main.js'),
    }));
  return [
    ...services,
    { name: 'token', entry: resolve(root, 'scripts/token.ts'), outfile: resolve(root, 'scripts/dist/token.js') },
    {
      name: 'bench',
      entry: resolve(root, 'packages/bench/src/jetcel/worker.ts'),
      outfile: resolve(root, 'packages/bench/dist/jetcel-worker.js'),
    },
  ];
}

/**
 * Database drivers that knex and MikroORM `require` only for other dialects (jetcel is
 * PostgreSQL only), and pg's optional native binding: left out, never loaded.
 */
const NOT_BUNDLED = [
  'better-sqlite3',
  'libsql',
  'mariadb',
  'mariadb/callback',
  'mysql',
  'mysql2',
  'oracledb',
  'pg-native',
  'pg-query-stream',
  'sqlite3',
  'tedious',
];

const options: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // What the sources import on demand (prom-client and OpenTelemetry in @jetcel/telemetry) goes
  // to chunks loaded only if asked for, as under tsx.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __jetcelCreateRequire } from 'node:module';\nconst require = __jetcelCreateRequire(import.meta.url);",
  },
  external: NOT_BUNDLED,
  // Whitespace and syntax only: names stay, so stack traces read as in the sources (and the
  // linked source map, `node --enable-source-maps`, maps them back). Comments go, which also keeps
  // the bundle ASCII: V8 holds an ASCII source in one byte per character, not two (6 MiB less).
  minifyWhitespace: true,
  minifySyntax: true,
  // Node prints the source line of an uncaught error: keep lines short enough to read in a log.
  lineLimit: 160,
  legalComments: 'external',
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};

export async function buildBundles(names: string[] = []): Promise<BuildTarget[]> {
  const all = buildTargets();
  const unknown = names.filter((name) => !all.some((target) => target.name === name));
  if (unknown.length > 0)
    throw new Error(`unknown build target ${unknown.join(', ')}; known: ${all.map((t) => t.name).join(', ')}`);
  const chosen = names.length === 0 ? all : all.filter((target) => names.includes(target.name));
  await Promise.all(
    chosen.map(async (target) => {
      rmSync(dirname(target.outfile), { recursive: true, force: true });
      const name = basename(target.outfile, '.js');
      await build({ ...options, entryPoints: { [name]: target.entry }, outdir: dirname(target.outfile) });
    }),
  );
  return chosen;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const built = await buildBundles(process.argv.slice(2));
  for (const target of built)
    process.stdout.write(
      `${relative(root, target.outfile)} ${(statSync(target.outfile).size / 2 ** 20).toFixed(1)} MiB\n`,
    );
  process.stdout.write(`built ${built.length} bundles in ${Date.now() - started} ms\n`);
}
