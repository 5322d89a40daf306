import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import type { DatabaseSnapshot } from '@jetcel/db';
import { metricsHostFromEnv, metricsPortFromEnv, sampleValue, tracingRequested } from '../src/index.ts';
import { ServiceMetrics } from '../src/service-metrics.ts';

const snapshot = (due: number): DatabaseSnapshot => ({
  rows: {
    outbox: { total: 10, unpublished: due },
    executions: {
      total: 3,
      byStatus: { running: 1, cancel_requested: 0, succeeded: 2, failed: 0, cancelled: 0 },
    },
    steps: 9,
    deadLetters: 1,
    idempotencyKeys: 0,
    scheduleTicks: 0,
    backgroundRuns: 0,
  },
  outbox: { due, scheduled: 2, oldestDueSeconds: 1.5 },
  queues: [{ queue: 'regular', due: 4, oldestDueSeconds: 0.25 }],
  throttle: [{ kind: 'instance-create', leases: 4, waiters: 7 }],
  deadLetters: [{ reason: 'CRASH_BUDGET', count: 1 }],
  deadLettersKept: 1,
});

test('runtime events become labelled series on the service registry', async () => {
  const metrics = new ServiceMetrics('worker-regular');
  const { runtime } = metrics;
  runtime.taskStarted({ task: 'a.b', queue: 'regular', lagSeconds: 0.2 });
  runtime.taskFinished({ task: 'a.b', queue: 'regular', outcome: 'succeeded', seconds: 0.3 });
  runtime.taskStarted({ task: 'a.b', queue: 'regular', lagSeconds: null });
  runtime.taskFinished({ task: 'a.b', queue: 'regular', outcome: 'retried', seconds: 0.1 });
  runtime.commandHandled({ subject: 'cmd.x.create', code: 'INVALID_STATE', seconds: 0.01 });
  runtime.throttleWaited({ kind: 'instance-create' });
  runtime.requestRefused({ reason: 'reply_subject' });
  const text = await metrics.text();
  const task = { task: 'a.b', queue: 'regular', service: 'worker-regular' };
  assert.equal(sampleValue(text, 'jetcel_tasks_started_total', task), 2);
  assert.equal(sampleValue(text, 'jetcel_tasks_succeeded_total', task), 1);
  assert.equal(sampleValue(text, 'jetcel_tasks_retried_total', task), 1);
  assert.doesNotMatch(text, /jetcel_tasks_failed_total\{/);
  assert.equal(sampleValue(text, 'jetcel_step_duration_seconds_count', { ...task, outcome: 'succeeded' }), 1);
  assert.equal(sampleValue(text, 'jetcel_step_duration_seconds_sum', { ...task, outcome: 'succeeded' }), 0.3);
  assert.equal(sampleValue(text, 'jetcel_step_duration_seconds_bucket', { ...task, outcome: 'retried', le: '0.1' }), 1);
  assert.equal(sampleValue(text, 'jetcel_queue_lag_seconds_count', { queue: 'regular' }), 1);
  assert.equal(
    sampleValue(text, 'jetcel_command_requests_total', { subject: 'cmd.x.create', code: 'INVALID_STATE' }),
    1,
  );
  assert.equal(sampleValue(text, 'jetcel_throttle_waits_total', { kind: 'instance-create' }), 1);
  assert.equal(sampleValue(text, 'jetcel_requests_refused_total', { reason: 'reply_subject' }), 1);
  assert.match(text, /process_cpu_user_seconds_total/);
});

test('database gauges sample once per interval and keep their last values when a sample fails', async () => {
  const metrics = new ServiceMetrics('executor');
  let calls = 0;
  let fail = false;
  const errors: unknown[] = [];
  metrics.addDatabaseGauges({
    minIntervalMs: 0,
    sample: async () => {
      calls += 1;
      if (fail) throw new Error('database away');
      return snapshot(calls);
    },
    onError: (error) => errors.push(error),
  });
  const first = await metrics.text();
  assert.equal(calls, 1, 'one sample feeds every gauge of a scrape');
  assert.equal(sampleValue(first, 'jetcel_outbox_backlog', { service: 'executor' }), 1);
  assert.equal(sampleValue(first, 'jetcel_queue_due_steps', { queue: 'regular', service: 'executor' }), 4);
  assert.equal(sampleValue(first, 'jetcel_throttle_leases', { kind: 'instance-create', service: 'executor' }), 4);
  assert.equal(sampleValue(first, 'jetcel_throttle_waiters', { kind: 'instance-create', service: 'executor' }), 7);
  assert.equal(sampleValue(first, 'jetcel_dead_letters', { reason: 'CRASH_BUDGET', service: 'executor' }), 1);
  assert.equal(sampleValue(first, 'jetcel_dead_letters_kept', { service: 'executor' }), 1);
  assert.equal(sampleValue(first, 'jetcel_rows', { table: 'steps', service: 'executor' }), 9);
  assert.equal(sampleValue(first, 'jetcel_executions', { status: 'succeeded', service: 'executor' }), 2);
  assert.equal(sampleValue(await metrics.text(), 'jetcel_outbox_backlog'), 2);
  fail = true;
  assert.equal(sampleValue(await metrics.text(), 'jetcel_outbox_backlog'), 2);
  assert.equal(errors.length, 1);
});

test('a scrape within the interval reuses the last sample', async () => {
  const metrics = new ServiceMetrics('executor');
  let calls = 0;
  metrics.addDatabaseGauges({ minIntervalMs: 60_000, sample: async () => snapshot(++calls) });
  await metrics.text();
  await metrics.text();
  assert.equal(calls, 1);
});

test('the endpoint serves the registry; JETCEL_METRICS_PORT is validated', async () => {
  const metrics = new ServiceMetrics('beat');
  const server = await metrics.serve(0, '127.0.0.1');
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /nodejs_heap_size_used_bytes\{service="beat"\}/);
  } finally {
    await server.close();
  }
  assert.equal(metricsPortFromEnv({}), null);
  assert.equal(metricsPortFromEnv({ JETCEL_METRICS_PORT: '' }), null);
  assert.equal(metricsPortFromEnv({ JETCEL_METRICS_PORT: '9464' }), 9464);
  assert.throws(() => metricsPortFromEnv({ JETCEL_METRICS_PORT: 'http' }), /JETCEL_METRICS_PORT/);
  assert.throws(() => metricsPortFromEnv({ JETCEL_METRICS_PORT: '70000' }), /JETCEL_METRICS_PORT/);
});

test('/metrics listens on loopback unless a host is configured (JETCEL_METRICS_HOST)', async () => {
  assert.equal(metricsHostFromEnv({}), '127.0.0.1');
  assert.equal(metricsHostFromEnv({ JETCEL_METRICS_HOST: ' ' }), '127.0.0.1');
  assert.equal(metricsHostFromEnv({ JETCEL_METRICS_HOST: '0.0.0.0' }), '0.0.0.0');
  const outside = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
  const server = await new ServiceMetrics('beat').serve(0);
  try {
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
    if (outside) await assert.rejects(fetch(`http://${outside}:${server.port}/healthz`), `not reachable on ${outside}`);
  } finally {
    await server.close();
  }
  assert.ok(outside, 'this machine has a non-loopback IPv4 address to try');
});

test('tracing is off unless the standard OTEL_* variables ask for it', () => {
  assert.equal(tracingRequested({}), null);
  assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), 'otlp');
  assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), 'otlp');
  assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' }), 'console');
  assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), null);
  assert.equal(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }), null);
});
