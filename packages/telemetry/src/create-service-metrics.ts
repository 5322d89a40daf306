import type { ServiceMetrics } from './service-metrics.ts';

/** A service's metrics registry; prom-client is loaded here, on first use, not at start-up. */
export async function createServiceMetrics(service: string): Promise<ServiceMetrics> {
  const { ServiceMetrics: Metrics } = await import('./service-metrics.ts');
  return new Metrics(service);
}
