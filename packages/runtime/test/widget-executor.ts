import { defineExecutor, defineTask, done, step } from '@jetcel/core';

/** A task that succeeds at once, and the widget's create executor planning just that task. */
export const noop = defineTask({ name: 'test.noop', run: async () => done(undefined) });

export const widgetCreate = defineExecutor({
  name: 'widget.create',
  kind: 'create',
  resourceType: 'widget',
  tasks: [noop],
  steps: () => [step(noop)],
});
