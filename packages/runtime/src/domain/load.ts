import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DomainDefinition, DomainExport } from './definition.ts';
import { DomainConfigError } from './errors.ts';

/** The domains a deployment runs when it names none: the reference domain (docs/configuration.md). */
export const DEFAULT_DOMAINS: readonly string[] = ['@jetcel/reference'];

/** The configuration file's names, looked up in this order; the .js one loads without a TypeScript loader. */
const CONFIG_FILES = ['jetcel.config.ts', 'jetcel.config.js'];

/** Which domains to load, and where their relative paths start. */
export interface DomainList {
  specifiers: readonly string[];
  /** Relative specifiers resolve against this directory. */
  base: string;
  source: 'JETCEL_DOMAINS' | 'config file' | 'default';
}

export interface LoadDomainsOptions {
  /** @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Where the configuration file is looked for (then in each parent up to the repository root). @defaultValue process.cwd() */
  cwd?: string;
  /**
   * Modules a service's bundle carries, by specifier: loaded from the bundle rather than resolved
   * at run time (a bundled image has no TypeScript loader for a workspace package's sources).
   */
  bundled?: Readonly<Record<string, () => Promise<unknown>>>;
}

/** The configuration file (jetcel.config.ts or .js) in `cwd` or the nearest parent, stopping at the repository root (pnpm-workspace.yaml). */
function findConfigFile(cwd: string): string | null {
  for (let directory = resolve(cwd); ; directory = dirname(directory)) {
    const candidate = CONFIG_FILES.map((name) => join(directory, name)).find((path) => existsSync(path));
    if (candidate) return candidate;
    if (existsSync(join(directory, 'pnpm-workspace.yaml')) || dirname(directory) === directory) return null;
  }
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string' && entry.trim() !== '');
}

/** JETCEL_DOMAINS (comma-separated) wins over JETCEL_CONFIG or jetcel.config.ts, which wins over the default. */
export async function configuredDomains(options: LoadDomainsOptions = {}): Promise<DomainList> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const listed = env.JETCEL_DOMAINS?.trim();
  if (listed)
    return {
      specifiers: listed
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
      base: cwd,
      source: 'JETCEL_DOMAINS',
    };
  const file = env.JETCEL_CONFIG ? resolve(cwd, env.JETCEL_CONFIG) : findConfigFile(cwd);
  if (file === null) return { specifiers: DEFAULT_DOMAINS, base: cwd, source: 'default' };
  const loaded = (await importFrom(file, { file })) as { default?: { domains?: unknown } };
  const domains = loaded.default?.domains;
  if (!isStringList(domains))
    throw new DomainConfigError('DOMAIN_INVALID', `${file} must export default { domains: [<package or path>, …] }`, {
      file,
    });
  return { specifiers: domains, base: dirname(file), source: 'config file' };
}

async function importFrom(path: string, details: Record<string, unknown>): Promise<unknown> {
  try {
    return await import(pathToFileURL(path).href);
  } catch (error) {
    // A bundle under plain Node has no TypeScript loader.
    const hint =
      (error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION'
        ? ' (Node imports no TypeScript without tsx: set JETCEL_DOMAINS, or write the file as JavaScript)'
        : '';
    throw new DomainConfigError('DOMAIN_INVALID', `${path} failed to load: ${String(error)}${hint}`, details, error);
  }
}

/** A package name resolves from `base` (node_modules up the tree); a path against `base`. */
function resolveSpecifier(specifier: string, base: string): string {
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  if (isPath) {
    const path = resolve(base, specifier);
    if (!existsSync(path))
      throw new DomainConfigError('DOMAIN_NOT_FOUND', `domain ${specifier}: ${path} does not exist`, { specifier });
    return path;
  }
  try {
    return createRequire(join(base, 'noop.js')).resolve(specifier);
  } catch (error) {
    throw new DomainConfigError(
      'DOMAIN_NOT_FOUND',
      `domain ${specifier} is not installed where ${base} can import it (add it to the package.json there)`,
      { specifier, base },
      error,
    );
  }
}

function isDomainExport(value: unknown): value is DomainExport {
  return typeof value === 'function' || (typeof value === 'object' && value !== null && 'name' in value);
}

/** Loads one domain module and builds its definition from its `jetcelDomain` export. */
async function loadDomain(specifier: string, list: DomainList, options: LoadDomainsOptions): Promise<DomainDefinition> {
  const bundled = options.bundled?.[specifier];
  const module = (
    bundled ? await bundled() : await importFrom(resolveSpecifier(specifier, list.base), { specifier })
  ) as { jetcelDomain?: unknown };
  const exported = module.jetcelDomain;
  if (!isDomainExport(exported))
    throw new DomainConfigError(
      'DOMAIN_INVALID',
      `domain ${specifier} exports no jetcelDomain (a domain definition, or a function of the environment returning one)`,
      { specifier },
    );
  return typeof exported === 'function' ? await exported(options.env ?? process.env) : exported;
}

/** The configured domains' definitions, in configuration order. */
export async function loadDomains(options: LoadDomainsOptions = {}): Promise<DomainDefinition[]> {
  const list = await configuredDomains(options);
  const definitions: DomainDefinition[] = [];
  for (const specifier of list.specifiers) definitions.push(await loadDomain(specifier, list, options));
  return definitions;
}
