import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JetcelClientError, eventFilterSubject, subjectKind } from '@jetcel/client';
import { COMMANDS } from '../src/commands/index.ts';
import { EXIT, UsageError, exitCodeOf } from '../src/exit-codes.ts';
import { parseCommandLine } from '../src/parse.ts';
import { progressLines } from '../src/render-execution.ts';
import { renderTable } from '../src/table.ts';

test('a command line resolves to its subcommand, values and arguments; mistakes are usage errors', () => {
  const parsed = parseCommandLine(COMMANDS, ['--json', 'executions', 'show', 'abc']);
  assert.equal(parsed.command?.name, 'executions show');
  assert.deepEqual([parsed.values.json, parsed.args], [true, ['abc']]);
  assert.equal(parseCommandLine(COMMANDS, ['send', 'cmd.a.b', '{}', '-f']).values.follow, true);
  assert.equal(parseCommandLine(COMMANDS, []).command, null);
  for (const argv of [
    ['frobnicate'],
    ['queues', '--follow'], // another subcommand's option
    ['queues', '--nope'],
    ['executions', 'show'], // missing id
    ['cancel', 'a', 'b'],
  ])
    assert.throws(() => parseCommandLine(COMMANDS, argv), UsageError, argv.join(' '));
});

test('exit codes: usage 2, error reply 1, UNAVAILABLE reply and transport failures 3', () => {
  assert.equal(exitCodeOf(new UsageError('x')), EXIT.usage);
  assert.equal(exitCodeOf(new JetcelClientError('reply', 'NOT_FOUND', 'x', 's', false)), EXIT.failed);
  assert.equal(exitCodeOf(new JetcelClientError('reply', 'UNAVAILABLE', 'x', 's', true)), EXIT.unavailable);
  assert.equal(exitCodeOf(new JetcelClientError('transport', 'TIMEOUT', 'x', 's', true)), EXIT.unavailable);
  assert.equal(exitCodeOf(new Error('bug')), EXIT.failed);
});

test('subjects and event filters are checked before anything is sent', () => {
  assert.equal(subjectKind('cmd.instance.create'), 'command');
  assert.equal(subjectKind('query.queue.stats'), 'query');
  for (const bad of ['tasks.regular', 'cmd.instance', 'cmd.a.b.c', 'query.>', 'cmd.a.*'])
    assert.throws(() => subjectKind(bad), JetcelClientError, bad);
  assert.equal(eventFilterSubject({}), 'events.*.*.*');
  assert.equal(eventFilterSubject({ type: 'instance', event: 'deleted' }), 'events.instance.*.deleted');
  assert.throws(() => eventFilterSubject({ id: 'a.b' }), TypeError);
});

test('tables pad columns; progress prints only the steps that changed', () => {
  assert.equal(renderTable(['a', 'bb'], [['xxx', null]]), 'a    bb\nxxx  -');
  const step = {
    id: 's1',
    role: 'main',
    position: 0,
    task: 't.one',
    queue: 'regular',
    status: 'running',
    attempts: 1,
    polls: 0,
    worker: null,
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    errorMessage: null,
    result: null,
  };
  const execution = {
    id: 'e1',
    executor: 'x',
    resource: { type: 'instance', id: 'i1' },
    status: 'running',
    actor: null,
    errorMessage: null,
    errorTraceback: null,
    createdAt: null,
    finishedAt: null,
    steps: [step],
  };
  assert.deepEqual(progressLines(null, execution), ['step 1/1  t.one  running  attempt 1', 'execution e1 running']);
  assert.deepEqual(progressLines(execution, execution), []);
  const done = { ...execution, status: 'succeeded', steps: [{ ...step, status: 'succeeded', durationMs: 20 }] };
  assert.deepEqual(progressLines(execution, done), [
    'step 1/1  t.one  succeeded  attempt 1  20ms',
    'execution e1 succeeded',
  ]);
});
