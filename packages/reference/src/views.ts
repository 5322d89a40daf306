import type { ResourceSnapshot } from '@jetcel/core';

function common(resource: ResourceSnapshot) {
  return {
    id: resource.id,
    state: resource.state,
    runtimeState: resource.runtimeState,
    backendId: resource.backendId,
    errorMessage: resource.errorMessage,
    errorTraceback: resource.errorTraceback,
    action: resource.action,
    actionDetails: resource.actionDetails,
    version: resource.version,
    owner: typeof resource.fields.owner === 'string' ? resource.fields.owner : null,
  };
}

/** The public shape of an instance in replies. */
export function instanceView(instance: ResourceSnapshot) {
  const { name, cloudSettingsId, flavor, projectId } = instance.fields;
  return { ...common(instance), name, cloudSettingsId, flavor, projectId: projectId ?? null };
}

export function volumeView(volume: ResourceSnapshot) {
  const { name, cloudSettingsId, size, instanceId, projectId } = volume.fields;
  return {
    ...common(volume),
    name,
    cloudSettingsId,
    size,
    instanceId: instanceId ?? null,
    projectId: projectId ?? null,
  };
}

export function projectView(project: ResourceSnapshot) {
  return { ...common(project), name: project.fields.name };
}
