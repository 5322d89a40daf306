import { api, errorLine, h, short, table, text, time } from './dom.js';

function failed(root, reply) {
  root.querySelector('#list').replaceChildren(h('p', { className: 'error' }, errorLine(reply)));
}

const rate = (value) => (value === null ? '' : `${value.toFixed(1)}/s`);
const age = (ms) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/**
 * Queue depths and rates (query.queue.stats). Rates come from two samples a refresh apart: in is
 * what the stream stored (its last sequence), out is what left a task stream (stored minus the
 * change in depth; work-queue streams drop a message once it is acked).
 */
export const queues = {
  previous: null,
  render(root) {
    root.append(h('div', { id: 'list' }));
  },
  async load(root) {
    const reply = await api('/api/queues');
    if (!reply.ok) return failed(root, reply);
    const now = Date.now();
    const previous = this.previous;
    this.previous = { at: now, streams: new Map(reply.data.streams.map((stream) => [stream.stream, stream])) };
    const seconds = previous ? (now - previous.at) / 1000 : 0;
    const rows = reply.data.streams.flatMap((stream) => {
      const before = previous?.streams.get(stream.stream);
      const rateIn = before && seconds > 0 ? (stream.lastSeq - before.lastSeq) / seconds : null;
      const rateOut =
        rateIn !== null && stream.queue !== null ? rateIn - (stream.messages - before.messages) / seconds : null;
      const consumers = stream.consumers.length ? stream.consumers : [null];
      return consumers.map((consumer, index) =>
        h(
          'tr',
          { data: { stream: stream.stream, consumer: consumer?.name ?? '' } },
          index === 0 ? h('td', { rowspan: consumers.length }, stream.queue ?? stream.stream) : null,
          index === 0 ? h('td', { rowspan: consumers.length, data: { field: 'depth' } }, stream.messages) : null,
          index === 0 ? h('td', { rowspan: consumers.length }, rate(rateIn)) : null,
          index === 0 ? h('td', { rowspan: consumers.length }, rate(rateOut)) : null,
          h('td', {}, text(consumer?.name)),
          h('td', {}, text(consumer?.pending)),
          h('td', {}, text(consumer?.inFlight)),
          h('td', {}, text(consumer?.redelivered)),
          h('td', {}, text(consumer?.waiting)),
          h('td', {}, time(consumer?.lastDelivered)),
        ),
      );
    });
    root
      .querySelector('#list')
      .replaceChildren(
        table(
          [
            'queue',
            'depth',
            'in',
            'out',
            'consumer',
            'pending',
            'in flight',
            'redelivered',
            'pulls waiting',
            'last delivery',
          ],
          rows,
          'No streams.',
        ),
      );
  },
};

/** Throttle leases per kind and scope (query.lease.list): limit, holders, waiters, each lease's age. */
export const leases = {
  render(root) {
    root.append(h('div', { id: 'list' }), h('div', { id: 'limits' }));
  },
  async load(root) {
    const reply = await api('/api/leases');
    if (!reply.ok) return failed(root, reply);
    const { scopes, limits, defaultLimit } = reply.data;
    root.querySelector('#list').replaceChildren(
      table(
        ['kind', 'scope', 'limit', 'held', 'waiting', 'leases (slot · execution · fencing token · age)'],
        scopes.map((scope) =>
          h(
            'tr',
            { data: { kind: scope.kind, scope: scope.scope } },
            h('td', {}, scope.kind),
            h('td', {}, scope.scope),
            h('td', {}, `${scope.limit} (${scope.limitSource})`),
            h('td', { data: { field: 'held' } }, scope.held),
            h('td', {}, scope.waiting),
            h(
              'td',
              {},
              scope.leases.map((lease) =>
                h(
                  'div',
                  { data: { executionId: text(lease.executionId) } },
                  `#${lease.slot} · ${short(lease.executionId)} · ${lease.revision} · ${age(lease.ageMs)}`,
                ),
              ),
            ),
          ),
        ),
        'No leases are held.',
      ),
    );
    root.querySelector('#limits').replaceChildren(
      h('h3', {}, `Limits (a scope without a row: ${defaultLimit})`),
      table(
        ['kind', 'scope', 'limit'],
        limits.map((limit) => h('tr', {}, h('td', {}, limit.kind), h('td', {}, limit.scope), h('td', {}, limit.limit))),
        'No limits configured.',
      ),
    );
  },
};

/** The beat schedules (query.schedule.list) with their last and next tick. */
export const schedules = {
  render(root) {
    root.append(h('div', { id: 'list' }));
  },
  async load(root) {
    const reply = await api('/api/schedules');
    if (!reply.ok) return failed(root, reply);
    root.querySelector('#list').replaceChildren(
      table(
        ['name', 'task', 'queue', 'when', 'resource', 'last tick', 'next tick'],
        reply.data.items.map((item) =>
          h(
            'tr',
            { data: { schedule: item.name } },
            h('td', {}, item.name),
            h('td', {}, item.task),
            h('td', {}, item.queue),
            h('td', {}, item.describe),
            h('td', {}, text(item.resource)),
            h('td', {}, time(item.lastTick)),
            h('td', {}, time(item.nextTick)),
          ),
        ),
        'No schedules.',
      ),
    );
  },
};
