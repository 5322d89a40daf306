/* global FormData */
import { api, errorLine, h } from './dom.js';

/** A small form that sends cmd.instance.create as the logged-in user. */
export const create = {
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
