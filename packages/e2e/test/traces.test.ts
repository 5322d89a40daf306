import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectBus, type Bus } from '@jetcel/bus';
import { Db } from '@jetcel/db';
import { CloudClient, createReferenceDomain, referenceConfigFromEnv } from '@jetcel/reference';
import {
  createLogger,
  retentionPruner,
  serviceConfigFromEnv,
  startExecutorService,
  startWorker,
} from '@jetcel/runtime';
import { inSpan, startTracing, traceHeaders, type Tracing } from '@jetcel/telemetry';
import { memorySpanExporter, type ReadableSpan } from '@jetcel/telemetry/testing';
import { eventually } from '@jetcel/testing';
import { Stack } from './stack.ts';

// Traces: the trace context travels from the command through the outbox, NATS headers
// and every step, so one trace holds the command span and every step span of the execution. The
// executor and the worker run in this process (real NATS, real PostgreSQL) so that one in-memory
// exporter sees every span.

const exporter = memorySpanExporter();
let tracing: Tracing | null;
let stack: Stack;
const stops: Array<() => Promise<void>> = [];

before(async () => {
  tracing = await startTracing({ serviceName: 'jetcel-trace-test', exporter });
  stack = await Stack.start({ buildDelayMs: 600 });
  const config = serviceConfigFromEnv(stack.env);
  const domain = createReferenceDomain(referenceConfigFromEnv(stack.env));
  const logger = createLogger({ level: 'warn' });
  const connect = async (name: string): Promise<{ bus: Bus; db: Db }> => {
    const bus = await connectBus({ servers: stack.natsUrls, name });
    const db = await Db.connect({ url: stack.database.url, entities: domain.entities });
    stops.push(async () => {
      await bus.close();
      await db.close();
    });
    return { bus, db };
  };
  const executorIo = await connect('trace-executor');
  const executor = await startExecutorService({
    ...executorIo,
    catalog: domain.tasks,
    executors: domain.executorRegistry,
    commands: domain.commands,
    logger,
    config,
  });
  const workerIo = await connect('trace-worker');
  const worker = await startWorker({
    ...workerIo,
    queue: 'regular',
    concurrency: 4,
    registry: domain.tasks,
    executors: domain.executorRegistry,
    services: { cloud: new CloudClient(stack.cloud.url), retention: retentionPruner(workerIo.db, config.retention) },
    logger,
    config,
  });
  stops.unshift(
    () => executor.stop(),
    () => worker.stop(1000),
  );
});
after(async () => {
  for (const stop of stops) await stop().catch(() => {});
  await tracing?.shutdown();
  await stack?.stop();
});

const attribute = (span: ReadableSpan, name: string): unknown => span.attributes[name];

test('one trace spans the client, the command and every step of the execution', async () => {
  // The client's own span: its traceparent rides on the request, as any W3C-aware caller's would.
  const { created, client } = await inSpan('client', {}, async () => {
    const headers = traceHeaders();
    assert.match(headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, spanId] = (headers.traceparent ?? '').split('-');
    const reply = await stack.ok<{ id: string; executionId: string }>(
      'cmd.instance.create',
      { name: 'traced', cloudSettingsId: 'default' },
      headers,
    );
    return { created: reply, client: { traceId, spanId } };
  });
  const execution = await stack.waitForExecution(created.executionId);
  assert.equal(execution.status, 'succeeded');
  const steps = await stack.sql<{ id: string; task: string; polls: number }>(
    'select id, task, polls from jetcel_step where execution_id = $1 order by queued_at',
    [created.executionId],
  );
  assert.deepEqual(
    steps.map((step) => step.task),
    ['instance.create_server', 'instance.poll_server', 'jetcel.set_ok'],
  );

  // A step span ends just after its commit: wait until every step has its spans.
  const stepSpans = await eventually(
    () => {
      const spans = exporter
        .getFinishedSpans()
        .filter((span) => attribute(span, 'jetcel.execution_id') === created.executionId);
      const runs = steps.reduce((sum, step) => sum + 1 + step.polls, 0);
      return spans.length >= runs ? spans : undefined;
    },
    { timeoutMs: 10_000, message: 'not every step run has a finished span' },
  );
  const command = exporter
    .getFinishedSpans()
    .find((span) => span.name === 'cmd.instance.create' && span.spanContext().traceId === client.traceId);
  assert.ok(command, 'the command has a span in the client trace');
  assert.equal(command.parentSpanContext?.spanId, client.spanId, 'the command span is a child of the client span');
  assert.equal(attribute(command, 'jetcel.reply.code'), 'OK');

  // One trace: every step span carries the client's trace id...
  assert.deepEqual([...new Set(stepSpans.map((span) => span.spanContext().traceId))], [client.traceId]);
  // ...every step has at least one span (the poll step one per run)...
  for (const step of steps) {
    const runs = stepSpans.filter((span) => attribute(span, 'jetcel.step_id') === step.id);
    assert.equal(runs.length, 1 + Number(step.polls), `spans of ${step.task}`);
    assert.ok(runs.every((span) => span.name === `step ${step.task}`));
  }
  // ...and the spans form one tree: the first step's parent is the command, each later one's parent
  // is the span (command or step) that queued it.
  const ids = new Set([command.spanContext().spanId, ...stepSpans.map((span) => span.spanContext().spanId)]);
  for (const span of stepSpans) assert.ok(ids.has(span.parentSpanContext?.spanId ?? ''), `${span.name} has a parent`);
  const first = stepSpans.find((span) => attribute(span, 'jetcel.step_id') === steps[0]?.id);
  assert.equal(first?.parentSpanContext?.spanId, command.spanContext().spanId);
  const last = stepSpans.find((span) => attribute(span, 'jetcel.step_id') === steps[2]?.id);
  assert.ok(last && last.startTime[0] * 1e9 + last.startTime[1] > command.startTime[0] * 1e9 + command.startTime[1]);
});

test('a command without a traceparent starts its own trace, and its steps follow it', async () => {
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'untraced',
    cloudSettingsId: 'default',
  });
  await stack.waitForExecution(created.executionId);
  const spans = await eventually(
    () => {
      const found = exporter
        .getFinishedSpans()
        .filter((span) => attribute(span, 'jetcel.execution_id') === created.executionId);
      return found.some((span) => attribute(span, 'jetcel.task') === 'jetcel.set_ok') ? found : undefined;
    },
    { timeoutMs: 10_000 },
  );
  const traceIds = new Set(spans.map((span) => span.spanContext().traceId));
  assert.equal(traceIds.size, 1);
  const [traceId] = [...traceIds];
  const command = exporter
    .getFinishedSpans()
    .find((span) => span.name === 'cmd.instance.create' && span.spanContext().traceId === traceId);
  assert.ok(command, 'the trace starts at the command span');
  assert.equal(command.parentSpanContext, undefined);
});
