import { EXIT } from '../exit-codes.ts';
import { intOption, stringOption } from '../global-options.ts';
import type { CommandSpec } from '../spec.ts';
import type { TailedEvent } from '@jetcel/client';
import { eventFilterSubject } from '@jetcel/client';
import { UsageError } from '../exit-codes.ts';

function eventLine(tailed: TailedEvent): string {
  const event = tailed.event;
  if (!event) return `${tailed.subject}  ${tailed.raw}`;
  const change = `${event.from ?? '-'} -> ${event.to ?? '-'}`;
  const extra = [
    event.executionId ? `execution ${event.executionId}` : '',
    event.actor ? `actor ${event.actor}` : '',
    event.error ? `error: ${event.error}` : '',
  ].filter(Boolean);
  return [event.at, event.resourceType, event.resourceId, tailed.subject.split('.').at(-1), change, ...extra].join(
    '  ',
  );
}

export const tailCommand: CommandSpec = {
  name: 'tail',
  summary: 'print live events (events.<type>.<id>.<event>) until Ctrl-C or --count',
  options: {
    type: { type: 'string', help: 'only this resource type' },
    id: { type: 'string', help: 'only this resource id' },
    event: { type: 'string', help: 'only this event (state_changed, deleted)' },
    count: { type: 'string', help: 'exit after N events' },
  },
  async run(context) {
    const filter = {
      ...(stringOption(context.values, 'type') ? { type: stringOption(context.values, 'type') } : {}),
      ...(stringOption(context.values, 'id') ? { id: stringOption(context.values, 'id') } : {}),
      ...(stringOption(context.values, 'event') ? { event: stringOption(context.values, 'event') } : {}),
    };
    let subject: string;
    try {
      subject = eventFilterSubject(filter);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const count = intOption(context.values, 'count', 1, 1_000_000);
    const tail = (await context.client()).tailEvents(filter);
    context.signal.addEventListener('abort', () => tail.stop(), { once: true });
    await tail.ready;
    context.output.err(`tailing ${subject}${count ? ` for ${count} events` : ''} (Ctrl-C to stop)`);
    let seen = 0;
    for await (const tailed of tail) {
      context.output.out(
        context.json
          ? JSON.stringify({ subject: tailed.subject, event: tailed.event ?? tailed.raw })
          : eventLine(tailed),
      );
      seen += 1;
      if (count !== undefined && seen >= count) break;
    }
    return EXIT.ok;
  },
};
