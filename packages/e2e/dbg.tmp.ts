import { Stack } from './test/stack.ts';
const stack = await Stack.start({
  buildDelayMs: 50,
  env: { INSTANCE_POLL_INTERVAL_MS: '20000', JETCEL_MAX_ACK_PENDING_REGULAR: '500', WORKER_CONCURRENCY: '32' },
});
const ex = await stack.spawn('executor');
const worker = await stack.spawn('worker', { queue: 'regular' });
const created = await Promise.all(
  Array.from({ length: 10 }, (_, i) =>
    stack.ok<{ id: string; executionId: string }>('cmd.instance.create', { name: `x${i}`, cloudSettingsId: 'default' }),
  ),
);
await new Promise((r) => setTimeout(r, 5000));
console.log(
  await stack.sql('select s.task, s.status, s.polls, s.not_before from jetcel_step s order by s.queued_at limit 12'),
);
console.log(
  worker
    .output()
    .filter((l) => /warn|error/.test(l))
    .slice(0, 5)
    .join('\n'),
);
await stack.stop();
