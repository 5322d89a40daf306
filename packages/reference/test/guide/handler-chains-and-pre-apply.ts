// The snippet of docs/write-your-own.md "Handler chains, executor handlers and preApply", compiled by
// `pnpm typecheck` (guide-snippets.test.ts checks the guide shows this code, from its first non-import line on).
import { defineExecutor, handler, runExecutorTask, step } from '@jetcel/core';
import { volumeFields } from '../../src/fields.ts';
import { instancePullExecutor } from '../../src/instance-executors.ts';
import { extendErredTask, extendVolumeTask, pollVolume } from '../../src/volume-tasks.ts';

export const volumeExtendAndPull = defineExecutor<{ size: number }>({
  name: 'volume.extend_and_pull',
  kind: 'action',
  resourceType: 'volume',
  action: 'Extend',
  // A handler call that runs another executor needs runExecutorTask, as a nested step does.
  tasks: [extendVolumeTask, pollVolume, extendErredTask, runExecutorTask],
  steps: ({ params }) => [
    step(extendVolumeTask, { size: params.size }, { before: { transition: 'begin_updating' } }),
    step(pollVolume, { size: params.size }),
  ],
  // In the transaction that schedules the execution, after the built-in checks and transition.
  async preApply(ctx) {
    const { instanceId } = volumeFields.parse(ctx.resource.fields);
    const instance = instanceId ? await ctx.resources.get('instance', instanceId, { forUpdate: true }) : null;
    if (!instance) return;
    // INVALID_STATE unless the instance is OK or ERRED: the command is refused and nothing is kept.
    await ctx.resources.applyPatch(instance, { transition: 'schedule_updating', action: 'Extend volume' }, ctx);
  },
  // A chain, in order: the instance OK, the volume OK, then a pull of the instance (another executor).
  onSuccess: ({ resource }) => {
    const { instanceId } = volumeFields.parse(resource.fields);
    if (!instanceId) return handler.setOk();
    const instance = `instance:${instanceId}`;
    return [handler.setOk(instance), handler.setOk(), handler.executor(instancePullExecutor, instance, {})];
  },
  // One call: the volume and its instance ERRED.
  onFailure: () => step(extendErredTask, {}),
});
