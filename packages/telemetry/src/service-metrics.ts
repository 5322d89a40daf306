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
