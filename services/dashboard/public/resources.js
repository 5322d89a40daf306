/* global URLSearchParams */
import {
  RESOURCE_STATES,
  RESOURCE_TYPES,
  api,
  changed,
  errorLine,
  h,
  select,
  short,
  table,
  text,
  time,
} from './dom.js';

/** Resources by state (query.resource.list): counts per type and state, and the newest resources. */
export const resources = {
  type: '',
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
          select('type', ['', ...RESOURCE_TYPES], this.type, (v) => this.set({ type: v })),
        ),
        h(
          'label',
          {},
          'State ',
          select('state', RESOURCE_STATES, this.state, (v) => this.set({ state: v })),
        ),
      ),
      h('div', { id: 'counts' }),
      h('div', { id: 'list' }),
    );
  },
  set(change) {
    Object.assign(this, change);
    changed();
  },
  async load(root) {
    const query = new URLSearchParams();
    if (this.type) query.set('type', this.type);
    if (this.state) query.set('state', this.state);
    const reply = await api(`/api/resources?${query}`);
    if (!reply.ok) {
      root.querySelector('#counts').replaceChildren();
      root.querySelector('#list').replaceChildren(h('p', { className: 'error' }, errorLine(reply)));
      return;
    }
    root.querySelector('#counts').replaceChildren(
      ...reply.data.types.map((type) =>
        h(
          'p',
          { className: 'counts', data: { type: type.type } },
          h('strong', {}, `${type.type} ${type.total}`),
          Object.entries(type.byState).map(([state, count]) =>
            h('span', { className: `status ${state}`, data: { state } }, `${state} ${count}`),
          ),
        ),
      ),
    );
    root.querySelector('#list').replaceChildren(
      table(
        ['type', 'id', 'name', 'state', 'backend id', 'action', 'modified', 'error'],
        reply.data.items.map((item) =>
          h(
            'tr',
            { data: { resourceId: item.id, state: item.state } },
            h('td', {}, item.type),
            h('td', { title: item.id }, short(item.id)),
            h('td', { data: { field: 'name' } }, text(item.fields?.name)),
            h('td', { data: { field: 'state' }, className: `status ${item.state}` }, item.state),
            h('td', {}, text(item.backendId)),
            h('td', {}, text(item.action)),
            h('td', {}, time(item.modifiedAt)),
            h('td', { className: 'error' }, text(item.errorMessage)),
          ),
        ),
        'No resources match.',
      ),
    );
  },
};
