import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatResourceRef, parseResourceRef } from '../src/index.ts';

test('C2: a resource reference is "<type>:<id>" and round-trips', () => {
  const refs = [
    { type: 'instance', id: '0b6f3c1e-5d1a-4c1e-9a51-8f3e2b7c9d10' },
    { type: 'volume', id: '7' },
    { type: 'floating_ip2', id: 'a' },
  ];
  for (const ref of refs) {
    const text = formatResourceRef(ref);
    assert.equal(text, `${ref.type}:${ref.id}`);
    assert.deepEqual(parseResourceRef(text), ref);
  }
});

test('C2: the id is everything after the first colon', () => {
  assert.deepEqual(parseResourceRef('vm:region:42'), { type: 'vm', id: 'region:42' });
  assert.equal(formatResourceRef(parseResourceRef('vm:region:42')), 'vm:region:42');
});

test('C2: parseResourceRef rejects "", ":x", "Bad:1", "x:" and other malformed references', () => {
  for (const value of ['', ':x', 'Bad:1', 'x:', 'vm', '1vm:1', 'vm-x:1', 'v m:1', ':']) {
    assert.throws(
      () => parseResourceRef(value),
      { name: 'TypeError', message: `Not a resource reference: "${value}" (expected "<type>:<id>")` },
      JSON.stringify(value),
    );
  }
});

test('C10: ids that would break an event subject (dots, wildcards, spaces) are rejected', () => {
  for (const value of ['vm:a.b', 'vm:a>', 'vm:*', 'vm:a b']) {
    assert.throws(() => parseResourceRef(value), /Not a resource reference/, value);
  }
});
