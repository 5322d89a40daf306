/* global URLSearchParams */
import { RESOURCE_STATES, RESOURCE_TYPES, api, changed, errorLine, h, select, short, table, text } from './dom.js';

/** Resources by state. */
export const resources = {
  type: 'instance',
  state: '',
  render(root) {
    root.append(
      h(
        'div',
        { className: 'controls' },
        h(
          'label',
          {},
          'Type ',
          select('type', RESOURCE_TYPES, this.type, (v) => this.set({ type: v })),
        ),
        h(
          'label',
          {},
          'State ',
          select('state', RESOURCE_STATES, this.state, (v) => this.set({ state: v })),
        ),
      ),
      h('div', { id: 'counts', className: 'counts' }),
      h('div', { id: 'list' }),
    );
  },
  set(change) {
    Object.assign(this, change);
    changed();
  },
  async load(root) {
    const query = new URLSearchParams({ type: this.type });
    if (this.state) query.set('state', this.state);
    const reply = await api(`/api/resources?${query}`);
    if (!reply.ok) {
      root.querySelector('#counts').replaceChildren();
      root.querySelector('#list').replaceChildren(h('p', { className: 'error' }, errorLine(reply)));
      return;
    }
    const items = reply.data.items;
    const counts = new Map();
    for (const item of items) counts.set(item.state, (counts.get(item.state) ?? 0) + 1);
    root
      .querySelector('#counts')
      .replaceChildren(
        ...[...counts].map(([state, count]) => h('span', { className: `status ${state}` }, `${state} ${count}`)),
      );
    root.querySelector('#list').replaceChildren(
      table(
        ['id', 'name', 'state', 'runtime state', 'backend id', 'error'],
        items.map((item) =>
          h(
            'tr',
            { data: { resourceId: item.id, state: item.state } },
            h('td', { title: item.id }, short(item.id)),
            h('td', { data: { field: 'name' } }, text(item.name)),
            h('td', { data: { field: 'state' }, className: `status ${item.state}` }, item.state),
            h('td', {}, text(item.runtimeState)),
            h('td', {}, text(item.backendId)),
            h('td', { className: 'error' }, text(item.errorMessage)),
          ),
        ),
        'No resources match.',
      ),
    );
  },
};

/** A view of whatever a query returns: a list of rows (`items`), or one object as key/value rows. */
