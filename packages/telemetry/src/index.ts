// Only @opentelemetry/api loads with this module; prom-client and the OpenTelemetry SDK load on
// demand (createServiceMetrics, startTracing), so a service with neither turned on pays nothing.
export { createServiceMetrics } from './create-service-metrics.ts';
export type { ServiceMetrics } from './service-metrics.ts';
export { metricsHostFromEnv, metricsPortFromEnv } from './metrics-port.ts';
export type { DatabaseGaugeOptions } from './database-gauges.ts';
export type { MetricsServer } from './metrics-server.ts';
export { sampleValue } from './prometheus-text.ts';
export { startTracing, tracingRequested, inSpan, traceHeaders, activeTraceIds } from './tracing.ts';
export type { Tracing, TracingOptions, SpanOptions, SpanHandle } from './tracing.ts';
