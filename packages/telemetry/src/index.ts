export { ServiceMetrics, metricsPortFromEnv } from './service-metrics.ts';
export { runtimeMetrics } from './runtime-metrics.ts';
export { registerDatabaseGauges } from './database-gauges.ts';
export type { DatabaseGaugeOptions } from './database-gauges.ts';
export { serveMetrics } from './metrics-server.ts';
export type { MetricsServer } from './metrics-server.ts';
export { startTracing, tracingRequested, inSpan, traceHeaders, activeTraceIds } from './tracing.ts';
export type { Tracing, TracingOptions, SpanOptions, SpanHandle } from './tracing.ts';
export { sampleValue } from './prometheus-text.ts';
