import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleValue } from '@jetcel/telemetry';
import { eventually, freePort, type ServiceProcess } from '@jetcel/testing';
import { Stack } from '../stack.ts';

// Metrics: every service serves Prometheus metrics on JETCEL_METRICS_PORT; scraped before
// and after a few creates, the counters, histograms and database gauges have moved.

let stack: Stack;
let executorProcess: ServiceProcess | undefined;
const ports: Record<'executor' | 'worker' | 'beat', number> = { executor: 0, worker: 0, beat: 0 };

before(async () => {
  stack = await Stack.start({ buildDelayMs: 2500 });
  for (const service of ['executor', 'worker', 'beat'] as const) {
    ports[service] = await freePort();
    const spawned = await stack.spawn(service, {
      queue: 'regular',
      env: { JETCEL_METRICS_PORT: String(ports[service]) },
    });
    if (service === 'executor') executorProcess = spawned;
  }
});
after(async () => {
  await stack?.stop();
});

async function scrape(service: keyof typeof ports): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${ports[service]}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  return response.text();
}

const value = sampleValue;

test('the counters, histograms and gauges of every service move during a run', async () => {
  const before = { executor: await scrape('executor'), worker: await scrape('worker'), beat: await scrape('beat') };
  const create = { subject: 'cmd.instance.create', code: 'OK' };
  const regular = { task: 'instance.create_server', queue: 'regular' };
  const created = [];
  for (const name of ['m-1', 'm-2', 'm-3'])
    created.push(await stack.ok<{ id: string }>(create.subject, { name, cloudSettingsId: 'default' }));
  const refused = await stack.request('cmd.instance.create', { name: '' });
  assert.equal(refused.ok, false);
  for (const { id } of created) await stack.waitForState(id, 'OK');

  const executor = await scrape('executor');
  assert.equal(
    value(executor, 'jetcel_command_requests_total', create) -
      value(before.executor, 'jetcel_command_requests_total', create),
    3,
  );
  assert.equal(
    value(executor, 'jetcel_command_requests_total', { subject: 'cmd.instance.create', code: 'VALIDATION_FAILED' }) -
      value(before.executor, 'jetcel_command_requests_total', {
        subject: 'cmd.instance.create',
        code: 'VALIDATION_FAILED',
      }),
    1,
  );
  assert.ok(value(executor, 'jetcel_command_duration_seconds_count', { subject: 'cmd.instance.create' }) >= 4);
  assert.match(executor, /service="executor"/);

  // The last step's counter moves just after its commit, which the test saw first: scrape until it has.
  const setOk = { task: 'jetcel.set_ok', queue: 'regular' };
  const worker = await eventually(
    async () => {
      const text = await scrape('worker');
      return value(text, 'jetcel_tasks_succeeded_total', setOk) -
        value(before.worker, 'jetcel_tasks_succeeded_total', setOk) >=
        3
        ? text
        : undefined;
    },
    { timeoutMs: 5000, message: 'jetcel.set_ok never counted 3 successes' },
  );
  const moved = (name: string, labels: Record<string, string>) =>
    value(worker, name, labels) - value(before.worker, name, labels);
  assert.equal(moved('jetcel_tasks_started_total', regular), 3);
  assert.equal(moved('jetcel_tasks_succeeded_total', regular), 3);
  assert.equal(moved('jetcel_tasks_succeeded_total', setOk), 3);
  assert.equal(moved('jetcel_tasks_failed_total', regular), 0);
  // A build takes 2.5 s and polls every 150 ms; under a loaded machine the first poll can come late.
  const polled = moved('jetcel_tasks_polled_total', { task: 'instance.poll_server', queue: 'regular' });
  assert.ok(polled >= 1, `the builds were polled (${polled} polls)`);
  assert.equal(moved('jetcel_step_duration_seconds_count', { ...regular, outcome: 'succeeded' }), 3);
  assert.ok(moved('jetcel_step_duration_seconds_sum', { ...regular, outcome: 'succeeded' }) > 0);
  assert.ok(moved('jetcel_queue_lag_seconds_count', { queue: 'regular' }) >= 9);
  assert.match(worker, /process_cpu_seconds_total\{service="worker-regular"\}/);

  // Deployment-wide gauges come from PostgreSQL (sampled at most every 5 s), on the executor only.
  await eventually(
    async () => {
      const text = await scrape('executor');
      return value(text, 'jetcel_executions', { status: 'succeeded' }) >= 3 ? text : undefined;
    },
    { timeoutMs: 15_000, message: 'jetcel_executions{status="succeeded"} never reached 3' },
  ).then((text) => {
    assert.ok(value(text, 'jetcel_rows', { table: 'steps' }) >= 9);
    assert.equal(value(text, 'jetcel_outbox_backlog'), 0);
    assert.ok(text.includes('jetcel_queue_due_steps'));
    assert.ok(text.includes('jetcel_throttle_leases'));
  });
  assert.equal(value(worker, 'jetcel_executions'), 0, 'database gauges are reported once, by the executor');

  const beat = await scrape('beat');
  assert.match(beat, /nodejs_eventloop_lag_seconds\{service="beat"\}/);
  assert.notEqual(before.beat, '');
});

test('a request whose reply subject is not an inbox, or that has none, is counted, logged and left unanswered', async () => {
  const before = await scrape('executor');
  const stored = async (): Promise<number> =>
    Number((await (await stack.bus.jsm()).streams.info('TASKS_REGULAR')).state.last_seq);
  const storedBefore = await stored();
  stack.bus.nc.publish('query.instance.list', '{}', { reply: 'tasks.regular' });
  stack.bus.nc.publish('query.instance.list', '{}');
  await stack.bus.nc.flush();
  const refused = (text: string, reason: string): number =>
    value(text, 'jetcel_requests_refused_total', { reason }) -
    value(before, 'jetcel_requests_refused_total', { reason });
  const executor = await eventually(
    async () => {
      const text = await scrape('executor');
      return refused(text, 'reply_subject') >= 1 && refused(text, 'no_reply') >= 1 ? text : undefined;
    },
    { timeoutMs: 5000, message: 'jetcel_requests_refused_total never moved' },
  );
  assert.equal(refused(executor, 'reply_subject'), 1);
  assert.equal(refused(executor, 'no_reply'), 1);
  const warning = await executorProcess?.waitForLine(
    /"reply":"tasks\.regular".*"msg":"request refused: no inbox to reply to"/,
    5000,
  );
  assert.match(String(warning), /"level":"warn"/);
  assert.match(String(warning), /"subject":"query\.instance\.list"/);
  assert.equal(await stored(), storedBefore, 'nothing reached tasks.regular');
});

test('anything but GET /metrics and /healthz is a 404', async () => {
  assert.equal((await fetch(`http://127.0.0.1:${ports.worker}/healthz`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${ports.worker}/nope`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${ports.worker}/metrics`, { method: 'POST' })).status, 404);
});
