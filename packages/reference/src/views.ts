import type { ResourceSnapshot } from '@jetcel/core';

/** The public shape of an instance in replies. */
export function instanceView(instance: ResourceSnapshot) {
  return {
    id: instance.id,
    name: instance.fields.name,
    cloudSettingsId: instance.fields.cloudSettingsId,
    flavor: instance.fields.flavor,
    state: instance.state,
    runtimeState: instance.runtimeState,
    backendId: instance.backendId,
    errorMessage: instance.errorMessage,
    errorTraceback: instance.errorTraceback,
    action: instance.action,
    actionDetails: instance.actionDetails,
    version: instance.version,
  };
}
