/* global URLSearchParams, confirm */
import {
  EXECUTION_STATUSES,
  RESOURCE_TYPES,
  api,
  changed,
  command,
  errorLine,
  h,
  select,
  short,
  table,
  text,
  time,
} from './dom.js';

/** Executions: filter by status and resource type; click one for its step timeline and errors. */
export const executions = {
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
    changed();
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
