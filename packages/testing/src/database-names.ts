import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Test databases are named `<prefix>_<pid>_<random>`; the default prefix is `jetcel_t`. */
export const DEFAULT_DATABASE_PREFIX = 'jetcel_t';

const PREFIX_RE = /^[a-z_][a-z0-9_]{0,39}$/;

export function testDatabaseName(prefix = DEFAULT_DATABASE_PREFIX): string {
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(
      `invalid test database prefix ${JSON.stringify(prefix)}: use 1-40 of [a-z0-9_], not starting with a digit`,
    );
  }
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** The creating pid encoded in a test database name, or undefined if the name is not one of ours. */
export function pidFromName(name: string, prefix = DEFAULT_DATABASE_PREFIX): number | undefined {
  if (!name.startsWith(`${prefix}_`)) return undefined;
  const match = /^(\d+)_[0-9a-f]+$/.exec(name.slice(prefix.length + 1));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Stored as the database's COMMENT, so that stale-database cleanup knows its age and creating host. */
export interface TestDatabaseMarker {
  pid: number;
  host: string;
  createdAt: number;
}

export function newMarker(): TestDatabaseMarker {
  return { pid: process.pid, host: hostname(), createdAt: Date.now() };
}

export function parseMarker(comment: string | null): TestDatabaseMarker | undefined {
  if (!comment) return undefined;
  try {
    const value: unknown = JSON.parse(comment);
    if (
      typeof value === 'object' &&
      value !== null &&
      'pid' in value &&
      typeof value.pid === 'number' &&
      'host' in value &&
      typeof value.host === 'string' &&
      'createdAt' in value &&
      typeof value.createdAt === 'number'
    ) {
      return { pid: value.pid, host: value.host, createdAt: value.createdAt };
    }
  } catch {
    // not our comment
  }
  return undefined;
}
