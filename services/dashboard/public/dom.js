/* global document, window, fetch */
// DOM and API helpers shared by the views. Every value from jetcel is placed with textContent (never
// innerHTML): names, errors and payloads are user data.

const csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
export const view = document.getElementById('view');
const flash = document.getElementById('flash');

export const EXECUTION_STATUSES = ['', 'running', 'cancel_requested', 'succeeded', 'failed', 'cancelled'];
// The server puts jetcel's resource types and states on the page (from @jetcel/core), so they are not repeated here.
export const RESOURCE_TYPES = view.dataset.resourceTypes.split(',');
export const RESOURCE_STATES = ['', ...view.dataset.resourceStates.split(',')];

/** h('tr', {className: 'x', data: {id: '1'}, onclick}, 'text', child…): text children become text nodes. */
export function h(tag, attributes = {}, ...children) {
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

export const text = (value) => (value === undefined || value === null ? '' : String(value));
export const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
export const short = (id) => text(id).slice(0, 8);

export function showFlash(message, kind = 'info') {
  flash.textContent = message;
  flash.className = kind;
  flash.hidden = false;
}

export function clearFlash() {
  flash.hidden = true;
}

export async function api(path, { method = 'GET', body } = {}) {
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

export function errorLine(reply) {
  if (reply.error?.code === 'UNKNOWN_SUBJECT') return 'Not available: this jetcel does not answer that query yet.';
  return `${text(reply.error?.code)}: ${text(reply.error?.message)}`;
}

export async function command(path, done) {
  const reply = await api(path, { method: 'POST', body: {} });
  if (reply.ok) showFlash(done, 'ok');
  else showFlash(errorLine(reply), 'error');
  changed();
  return reply;
}

export function select(name, options, value, onchange) {
  return h(
    'select',
    { name, onchange: (event) => onchange(event.target.value) },
    options.map((option) => h('option', { value: option, selected: option === value }, option || 'all')),
  );
}

export function table(headings, rows, empty = 'Nothing here.') {
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

let onChange = () => {};
/** Registers what `changed()` does (the page's refresh). */
export function whenChanged(listener) {
  onChange = listener;
}

/** Something the page shows may have changed: refresh it soon. */
export function changed() {
  onChange();
}
