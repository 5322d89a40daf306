import { subscribeCore, type Bus } from '@jetcel/bus';
import { resourceEventSchema, type ResourceEvent } from '@jetcel/contracts';

/** Which events to tail: each part narrows one token of `events.<type>.<id>.<event>`. */
export interface EventFilter {
  type?: string;
  id?: string;
  /** state_changed or deleted */
  event?: string;
}

export interface TailedEvent {
  subject: string;
  /** The parsed body, or null when it is not a jetcel resource event. */
  event: ResourceEvent | null;
  raw: string;
}

/** Live events as an async iterable; `stop()` (or a `break` out of the loop) unsubscribes. */
export interface EventTail extends AsyncIterable<TailedEvent> {
  /** Resolves once the server has the subscription: events published after it are seen. */
  readonly ready: Promise<void>;
  stop(): void;
}

function parseEvent(raw: string): ResourceEvent | null {
  try {
    const parsed = resourceEventSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const TOKEN = /^[^\s.*>]+$/;

export function eventFilterSubject(filter: EventFilter): string {
  const part = (value: string | undefined, name: string): string => {
    if (value === undefined || value === '') return '*';
    if (!TOKEN.test(value)) throw new TypeError(`Event filter ${name} "${value}" is not one subject token`);
    return value;
  };
  return `events.${part(filter.type, 'type')}.${part(filter.id, 'id')}.${part(filter.event, 'event')}`;
}

/** Tails events with a core subscription (live only, nothing replayed); needs subscribe rights on events.>. */
export function tailEvents(bus: Bus, filter: EventFilter = {}): EventTail {
  const buffered: TailedEvent[] = [];
  let wake: (() => void) | undefined;
  let stopped = false;
  const unsubscribe = subscribeCore(bus, eventFilterSubject(filter), (message) => {
    const raw = Buffer.from(message.data).toString('utf8');
    buffered.push({ subject: message.subject, event: parseEvent(raw), raw });
    wake?.();
  });
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    wake?.();
  };
  return {
    ready: bus.nc.flush(),
    stop,
    async *[Symbol.asyncIterator]() {
      try {
        while (true) {
          const next = buffered.shift();
          if (next) {
            yield next;
            continue;
          }
          if (stopped) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        stop();
      }
    },
  };
}
