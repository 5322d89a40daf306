import { EXIT } from '../exit-codes.ts';
import { stringOption } from '../global-options.ts';
import { formatDuration, formatTime, renderTable } from '../table.ts';
import type { CommandSpec } from '../spec.ts';

export const queuesCommand: CommandSpec = {
  name: 'queues',
  summary: 'per stream and consumer: messages, pending, in flight, redelivered, waiting pulls, last activity',
  async run(context) {
    const view = await (await context.client()).queueStats();
    if (context.json) {
      context.output.out(JSON.stringify(view));
      return EXIT.ok;
    }
    const rows = view.streams.flatMap((stream) => {
      const consumers = stream.consumers.length > 0 ? stream.consumers : [null];
      return consumers.map((consumer) => [
        stream.stream,
        stream.messages,
        consumer?.name,
        consumer?.pending,
        consumer?.inFlight,
        consumer?.redelivered,
        consumer?.waiting,
        formatTime(stream.lastActivity),
      ]);
    });
    context.output.out(
      renderTable(
        ['stream', 'messages', 'consumer', 'pending', 'in flight', 'redelivered', 'waiting', 'last activity'],
        rows,
      ),
    );
    return EXIT.ok;
  },
};

export const leasesCommand: CommandSpec = {
  name: 'leases',
  summary: 'live throttle leases per kind and scope, with the limit in force and the waiters',
  options: {
    scope: { type: 'string', help: 'only this scope (e.g. a cloud settings id)' },
    kind: { type: 'string', help: 'only this throttle kind (e.g. instance_provision)' },
  },
  async run(context) {
    const scope = stringOption(context.values, 'scope');
    const kind = stringOption(context.values, 'kind');
    const view = await (await context.client()).listLeases({ ...(scope ? { scope } : {}), ...(kind ? { kind } : {}) });
    if (context.json) {
      context.output.out(JSON.stringify(view));
      return EXIT.ok;
    }
    if (view.scopes.length === 0) context.output.out('no live leases and no waiters');
    for (const entry of view.scopes) {
      context.output.out(
        `${entry.kind} ${entry.scope}: ${entry.held}/${entry.limit} held (limit from ${entry.limitSource}), ${entry.waiting} waiting`,
      );
      if (entry.leases.length > 0)
        context.output.out(
          renderTable(
            ['  slot', 'execution', 'revision', 'renewed', 'age'],
            entry.leases.map((lease) => [
              `  ${lease.slot}`,
              lease.executionId,
              lease.revision,
              formatTime(lease.renewedAt),
              formatDuration(lease.ageMs),
            ]),
          ),
        );
    }
    context.output.out(`default limit per scope: ${view.defaultLimit}`);
    return EXIT.ok;
  },
};

export const schedulesCommand: CommandSpec = {
  name: 'schedules',
  summary: 'beat schedules with their task, interval or cron, last tick and next tick',
  async run(context) {
    const view = await (await context.client()).listSchedules();
    if (context.json) {
      context.output.out(JSON.stringify(view));
      return EXIT.ok;
    }
    context.output.out(
      renderTable(
        ['name', 'task', 'queue', 'schedule', 'last tick', 'next tick'],
        view.items.map((item) => [
          item.name,
          item.task,
          item.queue,
          item.everyMs !== null ? `every ${formatDuration(item.everyMs)}` : `cron ${item.cron ?? ''}`,
          formatTime(item.lastTick),
          formatTime(item.nextTick),
        ]),
      ),
    );
    return EXIT.ok;
  },
};
