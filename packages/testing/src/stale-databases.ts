import { hostname } from 'node:os';
import { DEFAULT_DATABASE_PREFIX, parseMarker, pidFromName } from './database-names.ts';
import { adminUrl, dropDatabase, withClient } from './pg-admin.ts';

export interface DropStaleOptions {
  /** Only databases named `<prefix>_<pid>_<random>` are considered (default `jetcel_t`). */
  prefix?: string;
}

/**
 * Best-effort cleanup after crashed runs: drops the test databases that are at
 * least `olderThanMs` old and whose creating process (on this host) is no
 * longer alive. Databases created on another host, or whose age cannot be
 * told, are left alone. Resolves with the names it dropped.
 */
export async function dropStaleTestDatabases(olderThanMs: number, options: DropStaleOptions = {}): Promise<string[]> {
  const prefix = options.prefix ?? DEFAULT_DATABASE_PREFIX;
  const host = hostname();
  return withClient(adminUrl(), async (client) => {
    const { rows } = await client.query<{ datname: string; comment: string | null }>(
      `SELECT datname, shobj_description(oid, 'pg_database') AS comment
         FROM pg_database
        WHERE starts_with(datname, $1)`,
      [`${prefix}_`],
    );
    const dropped: string[] = [];
    for (const row of rows) {
      const pid = pidFromName(row.datname, prefix);
      const marker = parseMarker(row.comment);
      if (pid === undefined || marker === undefined || marker.pid !== pid) continue;
      if (marker.host !== host || isProcessAlive(pid)) continue;
      if (Date.now() - marker.createdAt < olderThanMs) continue;
      try {
        await dropDatabase(client, row.datname);
        dropped.push(row.datname);
      } catch {
        // best effort: someone else may be dropping it, or it is in use
      }
    }
    return dropped;
  });
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else
    return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPERM';
  }
}
