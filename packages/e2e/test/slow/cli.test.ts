import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventually } from '@jetcel/testing';
import { jsonOf, runCli, startCli, type CliResult } from '../cli-runner.ts';
import { Stack } from '../stack.ts';

// Every `jetcel` subcommand as a child process against a running stack, in both output
// forms, with the exit codes scripts rely on (0 ok, 1 failed, 2 usage, 3 unavailable).

let stack: Stack;
let env: Record<string, string>;
const SECRET = 'a-test-secret-of-at-least-32-characters';

before(async () => {
  // The executor verifies tokens (JETCEL_AUTH_SECRET) and still lets token-less calls in (anonymous: allow).
  stack = await Stack.start({ env: { BEAT_TEST_SCHEDULE_EVERY_MS: '1000', JETCEL_AUTH_SECRET: SECRET } });
  // One at a time, with time to spare: on a loaded machine a start-up can outlast the default 20 s.
  const readyTimeoutMs = 60_000;
  await stack.spawn('executor', { readyTimeoutMs });
  await stack.spawn('worker', { queue: 'regular', readyTimeoutMs });
  await stack.spawn('beat', { readyTimeoutMs });
  env = { NATS_URL: stack.natsUrls.join(',') };
});
after(async () => {
  await stack?.stop();
});

const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);
const expectExit = (result: CliResult, code: number, what: string): void =>
  assert.equal(
    result.code,
    code,
    `${what}: exit ${String(result.code)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );

test('usage errors exit 2 and send nothing; --help lists the subcommands and exit codes; no server exits 3', async () => {
  const [badJson, badFlag, unknown, help, noServer] = await Promise.all([
    cli('send', 'cmd.instance.create', '{not json'),
    cli('queues', '--bogus'),
    cli('frobnicate'),
    cli('--help'),
    runCli(['--json', 'queues'], { NATS_URL: 'nats://127.0.0.1:1' }),
  ]);
  expectExit(badJson, 2, 'bad JSON');
  assert.match(badJson.stderr, /not valid JSON/);
  expectExit(badFlag, 2, 'unknown flag');
  expectExit(unknown, 2, 'unknown subcommand');
  expectExit(help, 0, '--help');
  for (const word of ['executions show', 'dead-letters redrive', 'tail', 'exit codes', '3  unavailable'])
    assert.ok(help.stdout.includes(word), `help mentions ${word}`);
  expectExit(noServer, 3, 'unreachable server');
  assert.equal(jsonOf<{ error: { code: string } }>(noServer).error.code, 'CONNECTION');
});

test('send --follow shows the steps and exits 0; an ERRED follow exits 1 with the error; executions list/show; unknown id is NOT_FOUND', async () => {
  const ok = await cli('send', 'cmd.instance.create', '{"name":"vm-cli","cloudSettingsId":"default"}', '--follow');
  expectExit(ok, 0, 'follow of a good create');
  assert.match(ok.stdout, /step 1\/\d+ {2}\S+ {2}(queued|running|succeeded) {2}attempt \d/);
  assert.match(ok.stdout, /on instance \S+: succeeded in /);
  const executionId = /execution ([0-9a-f-]{36})/.exec(ok.stdout)?.[1] ?? '';

  await stack.fault({ op: 'create', resource: 'server', mode: 'error', message: 'No valid host was found', count: 1 });
  const erred = await cli(
    'send',
    'cmd.instance.create',
    '{"name":"vm-bad","cloudSettingsId":"default"}',
    '-f',
    '--json',
  );
  expectExit(erred, 1, 'follow of a failing create');
  const followed = jsonOf<{ reply: { id: string }; execution: { status: string; errorMessage: string } }>(erred);
  assert.equal(followed.execution.status, 'failed');
  assert.match(followed.execution.errorMessage, /No valid host/);

  const [listed, listedJson, shown, shownJson, missing, missingJson, refused] = await Promise.all([
    cli('executions', 'list', '--status', 'succeeded'),
    cli('executions', 'list', '--resource', `instance:${followed.reply.id}`, '--json'),
    cli('executions', 'show', executionId),
    cli('executions', 'show', executionId, '--json'),
    cli('executions', 'show', randomUUID()),
    cli('executions', 'show', randomUUID(), '--json'),
    cli('send', 'cmd.instance.create', '{"name":""}'),
  ]);
  expectExit(listed, 0, 'executions list');
  assert.ok(listed.stdout.includes(executionId), 'the list shows the execution');
  const items = jsonOf<{ items: Array<{ status: string; errorMessage: string }> }>(listedJson).items;
  assert.deepEqual(
    items.map((item) => item.status),
    ['failed'],
  );
  expectExit(shown, 0, 'executions show');
  assert.match(shown.stdout, /steps:/);
  assert.match(shown.stdout, /instance\.create_server/);
  const execution = jsonOf<{ id: string; steps: Array<{ task: string; status: string }> }>(shownJson);
  assert.equal(execution.id, executionId);
  assert.ok(execution.steps.every((step) => step.status === 'succeeded'));
  expectExit(missing, 1, 'unknown execution');
  assert.match(missing.stderr, /NOT_FOUND/);
  expectExit(missingJson, 1, 'unknown execution --json');
  assert.equal(jsonOf<{ ok: boolean; error: { code: string } }>(missingJson).error.code, 'NOT_FOUND');
  expectExit(refused, 1, 'a command error reply');
  assert.match(refused.stderr, /VALIDATION_FAILED/);
});

test('resources, queues and schedules in both forms', async () => {
  await stack.readyInstance('vm-ok');
  const [resources, resourcesJson, queues, queuesJson, schedules, schedulesJson] = await Promise.all([
    cli('resources', '--state', 'OK'),
    cli('resources', '--type', 'instance', '--json'),
    cli('queues'),
    cli('queues', '--json'),
    cli('schedules'),
    cli('schedules', '--json'),
  ]);
  for (const [result, what] of [
    [resources, 'resources'],
    [resourcesJson, 'resources --json'],
    [queues, 'queues'],
    [queuesJson, 'queues --json'],
    [schedules, 'schedules'],
    [schedulesJson, 'schedules --json'],
  ] as const)
    expectExit(result, 0, what);
  assert.match(resources.stdout, /^type\s+total\s+.*OK/m);
  assert.match(resources.stdout, /instance\s+\S+\s+OK/);
  const view = jsonOf<{ types: Array<{ type: string; byState: Record<string, number> }>; items: unknown[] }>(
    resourcesJson,
  );
  assert.deepEqual(
    view.types.map((entry) => entry.type),
    ['instance'],
  );
  assert.ok((view.types[0]?.byState.OK ?? 0) >= 1 && (view.types[0]?.byState.ERRED ?? 0) >= 1);
  assert.match(queues.stdout, /TASKS_REGULAR\s+\d+\s+worker-regular/);
  assert.match(queues.stdout, /EVENTS/);
  const streams = jsonOf<{ streams: Array<{ stream: string; consumers: Array<{ name: string; inFlight: number }> }> }>(
    queuesJson,
  ).streams;
  assert.deepEqual(
    streams.map((stream) => stream.stream),
    [
      'TASKS_REGULAR',
      'TASKS_REGULAR_LONG',
      'TASKS_HEAVY',
      'TASKS_HEAVY_LONG',
      'TASKS_BACKGROUND',
      'TASKS_BACKGROUND_LONG',
      'EVENTS',
    ],
  );
  assert.equal(streams[0]?.consumers[0]?.name, 'worker-regular');
  assert.match(schedules.stdout, /instance-list-pull\s+instance\.list_pull\s+background\s+every 1h00m/);
  const scheduleItems = jsonOf<{ items: Array<{ name: string; lastTick: string | null; nextTick: string }> }>(
    schedulesJson,
  ).items;
  const heartbeat = scheduleItems.find((item) => item.name === 'test-heartbeat');
  assert.ok(heartbeat?.lastTick, 'beat recorded a tick of the 1 s schedule');
  assert.ok(Date.parse(heartbeat.nextTick) > Date.parse(heartbeat.lastTick));
});

test('leases show a live lease with its holder; cancel in both forms', async () => {
  // A barrier of 3 holds both builds until it is released: the leases stay held, whatever the machine's speed.
  await fetch(`${stack.cloud.url}/barriers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ op: 'build', size: 3 }),
  });
  const [first, second] = await Promise.all(
    ['vm-slow-1', 'vm-slow-2'].map((name) =>
      stack.ok<{ executionId: string }>('cmd.instance.create', { name, cloudSettingsId: 'default' }),
    ),
  );
  // Wait with direct queries (a CLI start-up can take seconds on a loaded machine), then ask the CLI once per form.
  await eventually(
    async () => {
      const view = await stack.ok<{ scopes: Array<{ scope: string; held: number }> }>('query.lease.list', {});
      return view.scopes.some((scope) => scope.scope === 'default' && scope.held === 2);
    },
    { timeoutMs: 15_000, message: 'both leases never showed' },
  );
  const [leasesJson, human] = await Promise.all([cli('leases', '--json'), cli('leases', '--scope', 'default')]);
  expectExit(leasesJson, 0, 'leases --json');
  const scopes = jsonOf<{
    scopes: Array<{
      kind: string;
      scope: string;
      limit: number;
      leases: Array<{ executionId: string; revision: number }>;
    }>;
  }>(leasesJson).scopes;
  assert.deepEqual(
    scopes.map((scope) => [scope.kind, scope.scope, scope.limit]),
    [['instance_provision', 'default', 4]],
  );
  assert.deepEqual(
    scopes[0]?.leases.map((lease) => lease.executionId).sort(),
    [first?.executionId, second?.executionId].sort(),
  );
  assert.ok(
    scopes[0]?.leases.every((lease) => lease.revision > 0),
    'each lease shows its fencing revision',
  );
  expectExit(human, 0, 'leases');
  assert.match(human.stdout, /instance_provision default: 2\/4 held/);
  assert.ok(human.stdout.includes(first?.executionId ?? '-'), 'the holder is shown');

  const [cancelled, cancelledJson] = await Promise.all([
    cli('cancel', first?.executionId ?? ''),
    cli('cancel', second?.executionId ?? '', '--json'),
  ]);
  expectExit(cancelled, 0, 'cancel');
  assert.match(cancelled.stdout, /execution \S+: (cancel_requested|cancelled)/);
  expectExit(cancelledJson, 0, 'cancel --json');
  assert.match(jsonOf<{ status: string }>(cancelledJson).status, /cancel_requested|cancelled/);
  // Both end before the next test tails instance events.
  await fetch(`${stack.cloud.url}/barriers`, { method: 'DELETE' });
  const ended = await Promise.all([first, second].map((created) => stack.waitForExecution(created?.executionId ?? '')));
  assert.deepEqual(
    ended.map((execution) => execution.status),
    ['cancelled', 'cancelled'],
  );
});

test('dead-letters list and redrive in both forms; a second redrive exits 1', async () => {
  await stack.publishOrphanTask();
  const letter = await eventually(
    async () =>
      (await stack.ok<{ items: Array<{ id: string; reason: string }> }>('query.dead_letter.list', {})).items.find(
        (item) => item.reason === 'UNATTRIBUTABLE',
      ),
    { timeoutMs: 15_000, message: 'no dead letter' },
  );
  const [listed, listedJson] = await Promise.all([
    cli('dead-letters', 'list'),
    cli('dead-letters', 'list', '--pending', '--json'),
  ]);
  expectExit(listed, 0, 'dead-letters list');
  assert.match(listed.stdout, new RegExp(`${letter.id}\\s+UNATTRIBUTABLE\\s+tasks\\.regular`));
  expectExit(listedJson, 0, 'dead-letters list --json');
  assert.deepEqual(
    jsonOf<{ items: Array<{ id: string }> }>(listedJson).items.map((item) => item.id),
    [letter.id],
  );
  const redriven = await cli('dead-letters', 'redrive', letter.id);
  expectExit(redriven, 0, 'redrive');
  assert.match(redriven.stdout, /re-driven/);
  const again = await cli('dead-letters', 'redrive', letter.id, '--json');
  expectExit(again, 1, 'second redrive');
  assert.equal(jsonOf<{ error: { code: string } }>(again).error.code, 'INVALID_STATE');
});

test('tail prints live events in both forms and stops after --count; token mints a usable identity', async () => {
  const human = startCli(['tail', '--type', 'instance', '--count', '1'], env);
  const json = startCli(['tail', '--type', 'instance', '--event', 'state_changed', '--count', '2', '--json'], env);
  await Promise.all([human.stderrLine(/tailing events\.instance\.\*\.\*/), json.stderrLine(/tailing/)]);
  const { id } = await stack.ok<{ id: string }>('cmd.instance.create', { name: 'vm-tail', cloudSettingsId: 'default' });
  const [humanResult, jsonResult] = await Promise.all([human.done, json.done]);
  expectExit(humanResult, 0, 'tail');
  assert.match(humanResult.stdout, new RegExp(`instance  ${id}  state_changed  - -> CREATION_SCHEDULED`));
  expectExit(jsonResult, 0, 'tail --json');
  const lines = jsonResult.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { subject: string; event: { resourceId: string; to: string } });
  assert.equal(lines.length, 2);
  assert.deepEqual(
    lines.map((line) => [line.subject, line.event.to]),
    [
      [`events.instance.${id}.state_changed`, 'CREATION_SCHEDULED'],
      [`events.instance.${id}.state_changed`, 'CREATING'],
    ],
  );

  const withSecret = { ...env, JETCEL_AUTH_SECRET: SECRET };
  const [token, tokenJson, noSecret] = await Promise.all([
    runCli(['token', '--actor', 'alice', '--role', 'admin'], withSecret),
    runCli(['token', '--actor', 'alice', '--role', 'admin', '--json'], withSecret),
    cli('token', '--actor', 'alice'),
  ]);
  expectExit(token, 0, 'token');
  assert.match(token.stdout.trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/);
  expectExit(tokenJson, 0, 'token --json');
  assert.deepEqual((({ actor, roles }) => ({ actor, roles }))(jsonOf<{ actor: string; roles: string[] }>(tokenJson)), {
    actor: 'alice',
    roles: ['admin'],
  });
  expectExit(noSecret, 2, 'token without a secret');
  const authorized = await runCli(['--token', token.stdout.trim(), 'executions', 'list', '--json'], env);
  expectExit(authorized, 0, 'a query carrying the token');
  const forged = await runCli(['token', '--actor', 'alice', '--role', 'admin'], {
    ...env,
    JETCEL_AUTH_SECRET: `${SECRET}-but-another-one`,
  });
  const refused = await runCli(['--token', forged.stdout.trim(), 'executions', 'list', '--json'], env);
  expectExit(refused, 1, 'a query carrying a token signed with another secret');
  assert.equal(jsonOf<{ error: { code: string } }>(refused).error.code, 'UNAUTHENTICATED');
});
