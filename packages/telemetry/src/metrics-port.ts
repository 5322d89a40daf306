/** `JETCEL_METRICS_PORT`: unset or empty means no metrics endpoint; 0 picks a free port. */
export function metricsPortFromEnv(env: Record<string, string | undefined> = process.env): number | null {
  const raw = env.JETCEL_METRICS_PORT?.trim();
  if (!raw) return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`JETCEL_METRICS_PORT must be a port number (0-65535), not "${raw}"`);
  return port;
}

/** `JETCEL_METRICS_HOST`: the address `/metrics` listens on; loopback unless one is configured. */
export function metricsHostFromEnv(env: Record<string, string | undefined> = process.env): string {
  return env.JETCEL_METRICS_HOST?.trim() || '127.0.0.1';
}
