import assert from 'node:assert/strict';
import { test } from 'node:test';
import { declaredThrottleLimits, ThrottleLimitConflictError } from '../src/index.ts';

const scope = () => 'default';

test('declared throttle limits: one per kind, shared by executors of the kind, undeclared kinds absent', () => {
  const limits = declaredThrottleLimits([
    { throttle: { kind: 'build', scope, limit: 2 } },
    { throttle: { kind: 'build', scope } },
    { throttle: { kind: 'build', scope, limit: 2 } },
    { throttle: { kind: 'resize', scope } },
    {},
  ]);
  assert.deepEqual([...limits], [['build', 2]]);
});

test('declared throttle limits: two different limits for one kind are refused', () => {
  assert.throws(
    () =>
      declaredThrottleLimits([
        { throttle: { kind: 'build', scope, limit: 2 } },
        { throttle: { kind: 'build', scope, limit: 3 } },
      ]),
    (error: unknown) => error instanceof ThrottleLimitConflictError && error.code === 'THROTTLE_LIMIT_CONFLICT',
  );
  assert.throws(() => declaredThrottleLimits([{ throttle: { kind: 'build', scope, limit: 1.5 } }]), /not an integer/);
});
