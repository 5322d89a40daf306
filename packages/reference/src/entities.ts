import { defineRecordEntity, defineResourceEntity } from '@jetcel/db';

/**
 * An owner of instances and volumes (Waldur's project): deleting it runs a cleanup executor.
 * `owner` on every resource: the actor who created it (the reference `authorize` policy).
 */
export const Project = defineResourceEntity({
  name: 'Project',
  tableName: 'ref_project',
  resourceType: 'project',
  properties: (p) => ({
    name: p.string().length(63),
    owner: p.string().length(255).nullable(),
  }),
});

/** A VM on the simulated cloud. Its cloud settings are its throttle scope. */
export const Instance = defineResourceEntity({
  name: 'Instance',
  tableName: 'ref_instance',
  resourceType: 'instance',
  properties: (p) => ({
    name: p.string().length(63),
    cloudSettingsId: p.string().length(63).index(),
    flavor: p.string().length(63).default('small'),
    projectId: p.uuid().nullable(),
    owner: p.string().length(255).nullable(),
    /** Scheduled backups kept (the oldest beyond are deleted); null: no backup schedule. */
    backupRetention: p.integer().nullable(),
    /** When the next scheduled backup is due. */
    backupNextAt: p.datetime().nullable(),
  }),
});

/** A block volume, optionally attached to an instance. */
export const Volume = defineResourceEntity({
  name: 'Volume',
  tableName: 'ref_volume',
  resourceType: 'volume',
  properties: (p) => ({
    name: p.string().length(63),
    cloudSettingsId: p.string().length(63),
    size: p.integer(),
    instanceId: p.uuid().nullable(),
    projectId: p.uuid().nullable(),
    owner: p.string().length(255).nullable(),
  }),
});

/** A cloud account/region that instances are built in (Waldur's service settings). */
export const CloudSettings = defineRecordEntity({
  name: 'CloudSettings',
  tableName: 'ref_cloud_settings',
  properties: (p) => ({
    id: p.string().length(63).primary(),
    name: p.string().length(255),
    createdAt: p.datetime().defaultRaw('now()'),
  }),
});

export const CLOUD_SETTINGS_TABLE = 'ref_cloud_settings';
export const referenceEntities = [Project, Instance, Volume, CloudSettings];
