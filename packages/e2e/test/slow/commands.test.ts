import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, type Reply } from '../stack.ts';

let stack: Stack;
before(async () => {
  stack = await Stack.start();
  await stack.spawn('executor');
  await stack.spawn('executor');
});
after(async () => {
  await stack?.stop();
});

async function counts(): Promise<{ instances: number; executions: number; outbox: number; keys: number }> {
  const [row] = await stack.sql<{ instances: string; executions: string; outbox: string; keys: string }>(
    `select (select count(*) from ref_instance) as instances, (select count(*) from jetcel_execution) as executions,
            (select count(*) from jetcel_outbox) as outbox, (select count(*) from jetcel_idempotency_key) as keys`,
  );
  return {
    instances: Number(row?.instances),
    executions: Number(row?.executions),
    outbox: Number(row?.outbox),
    keys: Number(row?.keys),
  };
}

test('G1: malformed commands get a stable error code and write nothing', async () => {
  const before = await counts();
  const cases: Array<[string, string | object, string]> = [
    ['not JSON', '{"name": "vm", ', 'VALIDATION_FAILED'],
    ['an array', [1, 2], 'VALIDATION_FAILED'],
    ['missing fields', { name: 'vm' }, 'VALIDATION_FAILED'],
    ['wrong-typed field', { name: 42, cloudSettingsId: 'default' }, 'VALIDATION_FAILED'],
    ['unknown field', { name: 'vm', cloudSettingsId: 'default', colour: 'red' }, 'VALIDATION_FAILED'],
    ['bad name', { name: 'vm with spaces', cloudSettingsId: 'default' }, 'VALIDATION_FAILED'],
    ['unknown cloud settings', { name: 'vm', cloudSettingsId: 'nowhere' }, 'VALIDATION_FAILED'],
    [
      '300 KiB',
      JSON.stringify({ name: 'vm', cloudSettingsId: 'default', pad: 'x'.repeat(300 * 1024) }),
      'PAYLOAD_TOO_LARGE',
    ],
  ];
  for (const [label, body, code] of cases) {
    const reply = await stack.request('cmd.instance.create', body);
    assert.equal(reply.ok, false, label);
    if (reply.ok) continue;
    assert.equal(reply.error.code, code, `${label}: ${reply.error.message}`);
    assert.equal(typeof reply.error.message, 'string');
    assert.equal(reply.error.retryable, false, label);
  }
  const unknownSubject = await stack.request('cmd.instance.explode', {});
  assert.equal(unknownSubject.ok, false);
  assert.equal(!unknownSubject.ok && unknownSubject.error.code, 'UNKNOWN_SUBJECT');
  const missing = await stack.request('query.instance.get', { id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');
  assert.deepEqual(await counts(), before);
});

test('G1: a 512 KiB payload is refused before parsing with PAYLOAD_TOO_LARGE', async () => {
  const reply = await stack.request('cmd.instance.create', 'x'.repeat(512 * 1024));
  assert.equal(!reply.ok && reply.error.code, 'PAYLOAD_TOO_LARGE');
  assert.deepEqual(!reply.ok && reply.error.details, { size: 512 * 1024, limit: 256 * 1024 });
});

test('two executor processes share the command subjects: 100 creates make exactly 100 instances', async () => {
  const before = await counts();
  const replies: Reply[] = await Promise.all(
    Array.from({ length: 100 }, (_, index) =>
      stack.request('cmd.instance.create', { name: `fleet-${index}`, cloudSettingsId: 'default' }),
    ),
  );
  assert.equal(replies.filter((reply) => reply.ok).length, 100);
  const ids = new Set(replies.map((reply) => (reply.ok ? (reply.data as { id: string }).id : '')));
  assert.equal(ids.size, 100);
  const after = await counts();
  assert.equal(after.instances - before.instances, 100);
  assert.equal(after.executions - before.executions, 100);
  const names = await stack.sql<{ n: string }>(
    "select count(distinct name) as n from ref_instance where name like 'fleet-%'",
  );
  assert.equal(Number(names[0]?.n), 100);
  // Both replicas took a share (queue group "executor"), and nothing was run twice.
  const served = stack.services.map(
    (service) =>
      service.output().filter((line) => line.includes('"subject":"cmd.instance.create"') && line.includes('"ok":true'))
        .length,
  );
  assert.equal(served.length, 2);
  assert.ok(
    served.every((count) => count > 0),
    `each replica served some creates: ${served.join(', ')}`,
  );
});

test('B10: a repeated Idempotency-Key (also two copies at once) returns the stored reply and creates nothing new; another request with it conflicts', async () => {
  const headers = { 'Idempotency-Key': 'create-once-1' };
  const body = { name: 'once', cloudSettingsId: 'default' };
  const [first, second] = await Promise.all([
    stack.request('cmd.instance.create', body, headers),
    stack.request('cmd.instance.create', body, headers),
  ]);
  assert.ok(first.ok && second.ok);
  assert.deepEqual(second, first);
  const third = await stack.request('cmd.instance.create', body, headers);
  assert.deepEqual(third, first);
  const rows = await stack.sql("select id from ref_instance where name = 'once'");
  assert.equal(rows.length, 1);
  const conflict = await stack.request('cmd.instance.create', { ...body, name: 'other' }, headers);
  assert.equal(!conflict.ok && conflict.error.code, 'IDEMPOTENCY_CONFLICT');
});
