/* global document, window, EventSource, setTimeout */
// The dashboard page: navigation (#tab or #executions/<id>) and live refresh. Commands carry the
// session's CSRF token; the server signs them with the user's identity, so jetcel authorizes them as
// that user.
import { create } from './create.js';
import { deadLetters } from './dead-letters.js';
import { clearFlash, showFlash, view, whenChanged } from './dom.js';
import { executions } from './executions.js';
import { leases, queues, schedules } from './operations.js';
import { resources } from './resources.js';

const live = document.getElementById('live');

const VIEWS = {
  executions,
  resources,
  queues,
  leases,
  schedules,
  'dead-letters': deadLetters,
  create,
};

let current = null;
let refreshing = false;
let again = false;

function route() {
  const [tab, id] = window.location.hash.slice(1).split('/');
  const name = Object.hasOwn(VIEWS, tab) ? tab : 'executions';
  if (name === 'executions' && id) executions.selected = id;
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('active', link.dataset.tab === name);
  clearFlash();
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

whenChanged(scheduleRefresh);
window.addEventListener('hashchange', route);
route();
connectLive();
