import { Stack } from './test/stack.ts';
const stack = await Stack.start({ buildDelayMs: 100 });
await stack.spawn('executor');
const worker = await stack.spawn('worker', { queue: 'regular' });
const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', { name: 'x', cloudSettingsId: 'default', volumes: [{ name: 'a', size: 1 }] });
await new Promise((r) => setTimeout(r, 4000));
console.log(await stack.sql('select e.executor, e.status, s.role, s.position, s.member, s.task, s.status as st, s.error_message from jetcel_step s join jetcel_execution e on e.id = s.execution_id order by s.queued_at'));
console.log(worker.output().filter((l) => /warn|error/.test(l)).slice(0, 5).join('\n'));
await stack.stop();
