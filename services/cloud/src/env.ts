import type { StartCloudOptions } from './server.ts';

export interface CloudEnvOptions extends StartCloudOptions {
  port: number;
  host: string;
  buildDelayMs: number;
  deleteDelayMs: number;
  actionDelayMs: number;
  snapshotDelayMs: number;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value > max) {
    throw new Error(`${name} must be an integer between 0 and ${max}, got "${raw}"`);
  }
  return value;
}

/** CLOUD_PORT, CLOUD_HOST and the CLOUD_*_DELAY_MS variables, with their defaults. */
export function readCloudEnv(env: NodeJS.ProcessEnv): CloudEnvOptions {
  return {
    port: integer(env, 'CLOUD_PORT', 8774, 65_535),
    host: env['CLOUD_HOST']?.trim() || '0.0.0.0',
    buildDelayMs: integer(env, 'CLOUD_BUILD_DELAY_MS', 3000, 3_600_000),
    deleteDelayMs: integer(env, 'CLOUD_DELETE_DELAY_MS', 1000, 3_600_000),
    actionDelayMs: integer(env, 'CLOUD_ACTION_DELAY_MS', 2000, 3_600_000),
    snapshotDelayMs: integer(env, 'CLOUD_SNAPSHOT_DELAY_MS', 5000, 3_600_000),
  };
}
