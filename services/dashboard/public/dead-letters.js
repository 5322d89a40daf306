/* global confirm */
import { api, changed, command, errorLine, h, short, table, text, time } from './dom.js';

/** Dead letters, each with a re-drive button until it is re-driven. */
export const deadLetters = {
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
              changed();
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
