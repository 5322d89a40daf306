import { collectDefaultMetrics, Registry } from 'prom-client';
import type { RuntimeMetrics } from '@jetcel/core';
import { runtimeMetrics } from './runtime-metrics.ts';
import { registerDatabaseGauges, type DatabaseGaugeOptions } from './database-gauges.ts';
import { serveMetrics, type MetricsServer } from './metrics-server.ts';

/** One service's metrics: its own registry (with Node process metrics), labelled with the service name. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly runtime: RuntimeMetrics;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.runtime = runtimeMetrics(this.registry);
  }

  /** Adds the deployment-wide gauges read from PostgreSQL (register them in one service only). */
  addDatabaseGauges(options: DatabaseGaugeOptions): void {
    registerDatabaseGauges(this.registry, options);
  }

  serve(port: number, host?: string): Promise<MetricsServer> {
    return serveMetrics(this.registry, { port, ...(host ? { host } : {}) });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** `JETCEL_METRICS_PORT`: unset or empty means no metrics endpoint; 0 picks a free port. */
export function metricsPortFromEnv(env: Record<string, string | undefined> = process.env): number | null {
  const raw = env.JETCEL_METRICS_PORT?.trim();
  if (!raw) return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`JETCEL_METRICS_PORT must be a port number (0-65535), not "${raw}"`);
  return port;
}
