/* global document, window, fetch, EventSource, FormData, URLSearchParams, setTimeout, confirm */
// The dashboard page. Every value from jetcel is placed with textContent (never innerHTML): names,
// errors and payloads are user data. Commands carry the session's CSRF token; the server signs them
// with the user's identity, so jetcel authorizes them as that user.

const csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
const view = document.getElementById('view');
const flash = document.getElementById('flash');
const live = document.getElementById('live');

const EXECUTION_STATUSES = ['', 'running', 'cancel_requested', 'succeeded', 'failed', 'cancelled'];
// The server puts jetcel's resource types and states on the page (from @jetcel/core), so they are not repeated here.
const RESOURCE_TYPES = view.dataset.resourceTypes.split(',');
const RESOURCE_STATES = ['', ...view.dataset.resourceStates.split(',')];

/** h('tr', {className: 'x', data: {id: '1'}, onclick}, 'text', child…): text children become text nodes. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'data') for (const [name, item] of Object.entries(value)) element.dataset[name] = String(item);
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'className') element.className = value;
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return element;
}

const text = (value) => (value === undefined || value === null ? '' : String(value));
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
const short = (id) => text(id).slice(0, 8);

function showFlash(message, kind = 'info') {
  flash.textContent = message;
  flash.className = kind;
  flash.hidden = false;
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    headers['x-csrf-token'] = csrfToken;
  }
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) {
    window.location.assign('/login');
    return { ok: false, error: { code: 'UNAUTHENTICATED', message: 'Signed out' } };
  }
  try {
    return await response.json();
  } catch {
    return { ok: false, error: { code: 'INTERNAL', message: `HTTP ${response.status}` } };
  }
}

function errorLine(reply) {
  if (reply.error?.code === 'UNKNOWN_SUBJECT') return 'Not available: this jetcel does not answer that query yet.';
  return `${text(reply.error?.code)}: ${text(reply.error?.message)}`;
}

async function command(path, done) {
  const reply = await api(path, { method: 'POST', body: {} });
  if (reply.ok) showFlash(done, 'ok');
  else showFlash(errorLine(reply), 'error');
  scheduleRefresh();
  return reply;
}

function select(name, options, value, onchange) {
  return h(
    'select',
    { name, onchange: (event) => onchange(event.target.value) },
    options.map((option) => h('option', { value: option, selected: option === value }, option || 'all')),
  );
}

function table(headings, rows, empty = 'Nothing here.') {
  if (rows.length === 0) return h('p', { className: 'empty' }, empty);
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headings.map((heading) => h('th', {}, heading)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

// ---- Views: each has controls built once (render) and data replaced on every refresh (load).

const executions = {
  status: '',
  resourceType: '',
  selected: null,
  render(root) {
    root.append(
      h(
        'div',
        { className: 'controls' },
        h(
          'label',
          {},
          'Status ',
          select('status', EXECUTION_STATUSES, this.status, (v) => this.set({ status: v })),
        ),
        h(
          'label',
          {},
          'Resource type ',
          select('resourceType', ['', ...RESOURCE_TYPES], this.resourceType, (v) => this.set({ resourceType: v })),
        ),
      ),
      h('div', { id: 'list' }),
      h('section', { id: 'detail' }),
    );
  },
  set(change) {
    Object.assign(this, change);
    scheduleRefresh();
  },
  async load(root) {
    const query = new URLSearchParams();
    if (this.status) query.set('status', this.status);
    if (this.resourceType) query.set('resourceType', this.resourceType);
    const [list, detail] = await Promise.all([
      api(`/api/executions?${query}`),
      this.selected ? api(`/api/executions/${encodeURIComponent(this.selected)}`) : null,
    ]);
    root
      .querySelector('#list')
      .replaceChildren(list.ok ? this.table(list.data.items) : h('p', { className: 'error' }, errorLine(list)));
    root.querySelector('#detail').replaceChildren(...(detail ? this.detail(detail) : []).filter(Boolean));
  },
  table(items) {
    return table(
      ['created', 'executor', 'resource', 'status', 'actor', 'error', ''],
      items.map((item) =>
        h(
          'tr',
          {
            data: { executionId: item.id, status: item.status },
            className: item.id === this.selected ? 'selected clickable' : 'clickable',
            onclick: () => this.set({ selected: item.id }),
          },
          h('td', {}, time(item.createdAt)),
          h('td', {}, item.executor),
          h('td', { title: item.resource?.id }, `${text(item.resource?.type)} ${short(item.resource?.id)}`),
          h('td', { data: { field: 'status' }, className: `status ${item.status}` }, item.status),
          h('td', {}, text(item.actor)),
          h('td', { className: 'error' }, text(item.errorMessage)),
          h('td', {}, cancelButton(item)),
        ),
      ),
      'No executions match.',
    );
  },
  detail(reply) {
    if (!reply.ok) return [h('p', { className: 'error' }, errorLine(reply))];
    const execution = reply.data;
    const steps = execution.steps ?? [];
    const starts = steps.map((step) => Date.parse(step.startedAt ?? step.queuedAt)).filter(Number.isFinite);
    const ends = steps.map((step) => Date.parse(step.finishedAt ?? '') || Date.now());
    const first = Math.min(...starts, Date.parse(execution.createdAt));
    const span = Math.max(1, Math.max(...ends, first + 1) - first);
    return [
      h(
        'h2',
        {},
        `Execution ${execution.executor} `,
        h('span', { className: `status ${execution.status}`, data: { field: 'detail-status' } }, execution.status),
        ' ',
        cancelButton(execution),
      ),
      h(
        'p',
        { className: 'meta' },
        `id ${execution.id} · ${text(execution.resource?.type)} ${text(execution.resource?.id)} · actor ${text(execution.actor) || '—'}`,
      ),
      execution.errorMessage ? h('p', { className: 'error' }, execution.errorMessage) : null,
      execution.errorTraceback ? h('pre', { className: 'traceback' }, execution.errorTraceback) : null,
      table(
        ['step', 'task', 'queue', 'status', 'attempts', 'polls', 'worker', 'started', 'duration', 'timeline', 'error'],
        steps.map((step) => {
          const start = Date.parse(step.startedAt ?? step.queuedAt) || first;
          const end = Date.parse(step.finishedAt ?? '') || Date.now();
          const bar = h('span', { className: `bar ${step.status}` });
          // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
          bar.style.marginLeft = `${((start - first) / span) * 100}%`;
          bar.style.width = `${Math.max(0.5, ((end - start) / span) * 100)}%`;
          return h(
            'tr',
            { data: { stepId: step.id, status: step.status } },
            h('td', {}, `${step.role} ${step.position}`),
            h('td', {}, step.task),
            h('td', {}, step.queue),
            h('td', { className: `status ${step.status}` }, step.status),
            h('td', {}, step.attempts),
            h('td', {}, step.polls),
            h('td', {}, text(step.worker)),
            h('td', {}, time(step.startedAt)),
            h('td', {}, step.durationMs === null ? '' : `${step.durationMs} ms`),
            h('td', { className: 'timeline' }, bar),
            h('td', { className: 'error' }, text(step.errorMessage)),
          );
        }),
        'No steps yet.',
      ),
    ];
  },
};

function cancelButton(execution) {
  if (execution.status !== 'running') return null;
  return h(
    'button',
    {
      type: 'button',
      className: 'cancel',
      data: { action: 'cancel' },
      onclick: (event) => {
        event.stopPropagation();
        if (confirm(`Cancel execution ${execution.executor} ${short(execution.id)}?`))
          void command(`/api/executions/${encodeURIComponent(execution.id)}/cancel`, 'Cancel requested.');
      },
    },
    'Cancel',
  );
}

const resources = {
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
    scheduleRefresh();
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
function genericView(path, empty) {
  return {
    render(root) {
      root.append(h('div', { id: 'list' }));
    },
    async load(root) {
      const reply = await api(path);
      root
        .querySelector('#list')
        .replaceChildren(reply.ok ? genericTable(reply.data, empty) : h('p', { className: 'error' }, errorLine(reply)));
    },
  };
}

function cell(value) {
  return h('td', {}, typeof value === 'object' && value !== null ? JSON.stringify(value) : text(value));
}

function genericTable(data, empty) {
  const items = Array.isArray(data?.items) ? data.items : Array.isArray(data) ? data : null;
  if (items) {
    const keys = [...new Set(items.flatMap((item) => Object.keys(item ?? {})))];
    return table(
      keys,
      items.map((item) =>
        h(
          'tr',
          {},
          keys.map((key) => cell(item?.[key])),
        ),
      ),
      empty,
    );
  }
  return table(
    ['', ''],
    Object.entries(data ?? {}).map(([key, value]) => h('tr', {}, h('th', {}, key), cell(value))),
    empty,
  );
}

const deadLetters = {
  pending: false,
  render(root) {
    root.append(
      h(
        'div',
        { className: 'controls' },
        h(
          'label',
          {},
          h('input', {
            type: 'checkbox',
            name: 'pending',
            checked: this.pending,
            onchange: (event) => {
              this.pending = event.target.checked;
              scheduleRefresh();
            },
          }),
          ' only not re-driven',
        ),
      ),
      h('div', { id: 'list' }),
    );
  },
  async load(root) {
    const reply = await api(`/api/dead-letters${this.pending ? '?pending=true' : ''}`);
    if (!reply.ok) {
      root.querySelector('#list').replaceChildren(h('p', { className: 'error' }, errorLine(reply)));
      return;
    }
    root.querySelector('#list').replaceChildren(
      table(
        ['created', 'reason', 'subject', 'detail', 'execution', 'deliveries', 're-driven', ''],
        reply.data.items.map((letter) =>
          h(
            'tr',
            { data: { deadLetterId: letter.id, reason: letter.reason } },
            h('td', {}, time(letter.createdAt)),
            h('td', {}, letter.reason),
            h('td', {}, letter.subject),
            h('td', { className: 'error' }, text(letter.detail)),
            h('td', { title: text(letter.executionId) }, short(letter.executionId)),
            h('td', {}, letter.deliveryCount),
            h('td', { data: { field: 'redrivenAt' } }, time(letter.redrivenAt)),
            h(
              'td',
              {},
              letter.redrivenAt
                ? null
                : h(
                    'button',
                    {
                      type: 'button',
                      data: { action: 'redrive' },
                      onclick: () => {
                        if (confirm(`Re-drive dead letter ${short(letter.id)} (${letter.reason})?`))
                          void command(`/api/dead-letters/${encodeURIComponent(letter.id)}/redrive`, 'Re-driven.');
                      },
                    },
                    'Re-drive',
                  ),
            ),
          ),
        ),
        'No dead letters.',
      ),
    );
  },
};

const create = {
  render(root) {
    const result = h('p', { id: 'create-result' });
    const form = h(
      'form',
      {
        id: 'create-form',
        onsubmit: async (event) => {
          event.preventDefault();
          const fields = new FormData(form);
          const reply = await api('/api/instances', {
            method: 'POST',
            body: { name: fields.get('name'), cloudSettingsId: fields.get('cloudSettingsId') },
          });
          if (!reply.ok) {
            result.replaceChildren(h('span', { className: 'error' }, errorLine(reply)));
            return;
          }
          result.replaceChildren(
            'Instance ',
            h('code', { data: { field: 'instanceId' } }, reply.data.id),
            ' is ',
            h('span', { className: `status ${reply.data.state}` }, reply.data.state),
            '; execution ',
            h(
              'a',
              { href: `#executions/${reply.data.executionId}`, data: { field: 'executionId' } },
              reply.data.executionId,
            ),
          );
          form.reset();
        },
      },
      h('label', {}, 'Name ', h('input', { name: 'name', required: true, maxlength: 255 })),
      h('label', {}, 'Cloud settings ', h('input', { name: 'cloudSettingsId', value: 'default', required: true })),
      h('button', { type: 'submit' }, 'Create'),
    );
    root.append(h('p', {}, 'Sends cmd.instance.create as you.'), form, result);
  },
  async load() {},
};

const VIEWS = {
  executions,
  resources,
  queues: genericView('/api/queues', 'No queues.'),
  leases: genericView('/api/leases', 'No leases are held.'),
  schedules: genericView('/api/schedules', 'No schedules.'),
  'dead-letters': deadLetters,
  create,
};

// ---- Navigation (#tab or #executions/<id>) and live refresh.

let current = null;
let refreshing = false;
let again = false;

function route() {
  const [tab, id] = window.location.hash.slice(1).split('/');
  const name = Object.hasOwn(VIEWS, tab) ? tab : 'executions';
  if (name === 'executions' && id) executions.selected = id;
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('active', link.dataset.tab === name);
  current = VIEWS[name];
  view.dataset.view = name;
  view.replaceChildren();
  current.render(view);
  scheduleRefresh();
}

async function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    await current.load(view);
  } catch (error) {
    showFlash(`Refresh failed: ${error.message}`, 'error');
  } finally {
    refreshing = false;
  }
  if (again) {
    again = false;
    void refresh();
  }
}

let pending = false;
function scheduleRefresh() {
  if (pending) return;
  pending = true;
  setTimeout(() => {
    pending = false;
    void refresh();
  }, 50);
}

function connectLive() {
  const stream = new EventSource('/events');
  const state = (value, label) => {
    live.dataset.live = value;
    live.textContent = label;
  };
  stream.addEventListener('hello', () => state('on', 'live'));
  stream.addEventListener('tick', () => {
    state('on', 'live');
    scheduleRefresh();
  });
  stream.addEventListener('resource', scheduleRefresh);
  stream.addEventListener('logout', () => {
    stream.close();
    window.location.assign('/login');
  });
  stream.addEventListener('error', () => state('off', 'reconnecting…'));
}

window.addEventListener('hashchange', route);
route();
connectLive();
