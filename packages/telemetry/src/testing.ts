import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export type { ReadableSpan };

/** An exporter that keeps finished spans in memory, for tests: pass it to `startTracing({ exporter })`. */
export function memorySpanExporter(): InMemorySpanExporter {
  return new InMemorySpanExporter();
}
