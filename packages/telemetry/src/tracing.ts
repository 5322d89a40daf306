import type * as OtelApi from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

const TRACER_NAME = 'jetcel';

/** The OpenTelemetry API, loaded by startTracing only: null means tracing is off. */
let api: typeof OtelApi | null = null;

export interface Tracing {
  /** Exports what is buffered and stops tracing (at shutdown). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` when OTEL_SERVICE_NAME is not set, e.g. `jetcel-worker-regular`. */
  serviceName: string;
  /** Export here, span by span (tests: an InMemorySpanExporter), whatever the environment says. */
  exporter?: SpanExporter;
  env?: Record<string, string | undefined>;
}

/**
 * Tracing is on only when the standard OpenTelemetry variables ask for it: OTEL_TRACES_EXPORTER
 * (`otlp` or `console`; `none` is off) or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and OTEL_SDK_DISABLED is not `true`.
 */
export function tracingRequested(env: Record<string, string | undefined> = process.env): 'otlp' | 'console' | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return null;
  if (exporter === 'console') return 'console';
  if (exporter === 'otlp') return 'otlp';
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) return 'otlp';
  return null;
}

/**
 * Registers the OpenTelemetry SDK (W3C trace context, async context tracking) when asked to;
 * otherwise does nothing and loads nothing: spans and header injection then cost a flag check.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing | null> {
  const env = options.env ?? process.env;
  const wanted = options.exporter ? 'given' : tracingRequested(env);
  if (wanted === null) return null;
  const [
    otel,
    { NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter },
    { resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
  ]);
  const processor = await (async () => {
    if (options.exporter) return new SimpleSpanProcessor(options.exporter);
    if (wanted === 'console') return new BatchSpanProcessor(new ConsoleSpanExporter());
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new BatchSpanProcessor(new OTLPTraceExporter());
  })();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || options.serviceName }),
    spanProcessors: [processor],
  });
  provider.register();
  api = otel;
  return {
    async shutdown() {
      api = null;
      await provider.shutdown();
      otel.trace.disable();
      otel.propagation.disable();
      otel.context.disable();
    },
  };
}

export interface SpanOptions {
  attributes?: Attributes;
  /** Headers of the message or request this span handles: its `traceparent` makes the span a child. */
  parentHeaders?: Record<string, string>;
  kind?: 'server' | 'consumer' | 'internal';
}

// SpanKind's values (an enum of the API, which is not loaded while tracing is off).
const KINDS = { internal: 0, server: 1, consumer: 4 } as const;

/**
 * Runs `fn` in a span (the active one while `fn` runs, so outbox rows written inside carry it).
 * An exception marks the span as an error and is rethrown. With tracing off, just runs `fn`.
 */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: SpanHandle) => Promise<T>): Promise<T> {
  if (!api) return fn(NO_SPAN);
  const { context, propagation, trace, SpanStatusCode } = api;
  const parent = options.parentHeaders
    ? propagation.extract(context.active(), lowerCaseKeys(options.parentHeaders))
    : context.active();
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(
    name,
    { kind: KINDS[options.kind ?? 'internal'], ...(options.attributes ? { attributes: options.attributes } : {}) },
    parent,
    async (span) => {
      try {
        return await fn({ set: (attributes) => span.setAttributes(attributes), rename: (to) => span.updateName(to) });
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Lets the code in a span add what it learns (an outcome, an execution id). */
export interface SpanHandle {
  set(attributes: Attributes): void;
  rename(name: string): void;
}

const NO_SPAN: SpanHandle = { set() {}, rename() {} };

/** The active trace context as message headers (`traceparent`, maybe `tracestate`); empty with tracing off. */
export function traceHeaders(): Record<string, string> {
  if (!api) return {};
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.context.active(), carrier);
  return carrier;
}

/** The active span's ids, for log lines; null with tracing off or outside a span. */
export function activeTraceIds(): { traceId: string; spanId: string } | null {
  if (!api) return null;
  const span = api.trace.getActiveSpan();
  if (!span) return null;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** W3C header names are lower case; NATS headers keep whatever case the sender used. */
function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const lowered: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) lowered[key.toLowerCase()] = value;
  return lowered;
}
