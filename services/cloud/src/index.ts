export { startCloud } from './server.ts';
export type { RunningCloud, StartCloudOptions } from './server.ts';
export { CloudState } from './cloud-state.ts';
export type { CloudStateOptions } from './cloud-state.ts';
export { CloudError } from './errors.ts';
export type { CreatedServer } from './servers.ts';
export type { CreatedVolume } from './volumes.ts';
export type { CreatedSnapshot } from './snapshots.ts';
export type {
  Barrier,
  BarrierInput,
  BarrierOp,
  CloudDelays,
  CloudStats,
  CreateServerInput,
  CreateSnapshotInput,
  CreateVolumeInput,
  ErrorBody,
  FaultMode,
  FaultOp,
  FaultResource,
  FaultRule,
  FaultRuleInput,
  FencingClaim,
  ReleasedBarriers,
  RenameServerInput,
  RequestContext,
  Server,
  ServerAction,
  ServerStatus,
  ServerTaskState,
  SettingsStats,
  Snapshot,
  SnapshotStatus,
  Volume,
  VolumeStatus,
} from './types.ts';
