import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { activeTraceIds, inSpan, startTracing, traceHeaders } from '../src/index.ts';
import { memorySpanExporter } from '../src/testing.ts';

test('with tracing off, spans cost nothing and inject nothing', async () => {
  const result = await inSpan(
    'off',
    { parentHeaders: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` } },
    async (span) => {
      span.set({ ignored: true });
      return { headers: traceHeaders(), ids: activeTraceIds() };
    },
  );
  assert.deepEqual(result, { headers: {}, ids: null });
});

test('a span continues the traceparent it is given, and its context is what traceHeaders injects', async () => {
  const exporter = memorySpanExporter();
  const tracing = await startTracing({ serviceName: 'jetcel-test', exporter });
  assert.ok(tracing);
  try {
    const parent = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    const inner = await inSpan('outer', { parentHeaders: { TraceParent: parent }, kind: 'consumer' }, async (span) => {
      span.rename('renamed');
      return { headers: traceHeaders(), ids: activeTraceIds() };
    });
    await assert.rejects(
      inSpan('failing', {}, async () => {
        throw new TypeError('boom');
      }),
      TypeError,
    );
    const [outer, failing] = exporter.getFinishedSpans();
    assert.equal(outer?.name, 'renamed');
    assert.equal(outer?.spanContext().traceId, '1'.repeat(32));
    assert.equal(outer?.parentSpanContext?.spanId, '2'.repeat(16));
    assert.equal(inner.ids?.spanId, outer?.spanContext().spanId);
    assert.equal(inner.headers.traceparent, `00-${'1'.repeat(32)}-${outer?.spanContext().spanId}-01`);
    assert.equal(failing?.status.code, 2, 'an exception marks the span as an error');
    assert.equal(failing?.parentSpanContext, undefined, 'outside any span, a span starts a new trace');
  } finally {
    await tracing.shutdown();
  }
  assert.deepEqual(traceHeaders(), {}, 'off again after shutdown');
});

test('OTEL_EXPORTER_OTLP_ENDPOINT sends the spans over OTLP/HTTP to /v1/traces', async () => {
  const received: Array<{ path: string; bytes: number }> = [];
  const collector = createServer((request, response) => {
    let bytes = 0;
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      received.push({ path: request.url ?? '', bytes });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
  try {
    const tracing = await startTracing({ serviceName: 'jetcel-test' });
    assert.ok(tracing, 'the endpoint turns tracing on');
    await inSpan('exported', {}, async () => {});
    await tracing.shutdown(); // flushes the batch
    assert.equal(received.length, 1);
    assert.equal(received[0]?.path, '/v1/traces');
    assert.ok((received[0]?.bytes ?? 0) > 0);
  } finally {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    collector.close();
  }
});
