// Public shapes of the simulated cloud: what its HTTP API returns and accepts.

export type ServerStatus = 'BUILD' | 'ACTIVE' | 'SHUTOFF' | 'RESIZE' | 'ERROR' | 'DELETING' | 'DELETED';

/** What the server is busy doing, like OpenStack's task_state; null when idle. */
export type ServerTaskState = 'resizing' | 'powering-on' | 'powering-off' | 'deleting';

export interface Server {
  id: string;
  name: string;
  settingsId: string;
  status: ServerStatus;
  taskState: ServerTaskState | null;
  flavor: string;
  imageId: string | null;
  createdAt: string;
  updatedAt: string;
  /** Set when the server ended in ERROR. */
  fault?: string;
}

export type VolumeStatus = 'creating' | 'available' | 'extending' | 'deleting' | 'error' | 'deleted';

export interface Volume {
  id: string;
  name: string;
  settingsId: string;
  /** GiB. */
  size: number;
  status: VolumeStatus;
  /** The server the volume is attached to; null when detached. */
  serverId: string | null;
  createdAt: string;
  updatedAt: string;
  /** Set when the volume ended in error. */
  fault?: string;
}

export interface CreateServerInput {
  name: string;
  settingsId: string;
  flavor?: string;
  imageId?: string;
}

export interface CreateVolumeInput {
  name: string;
  settingsId: string;
  size: number;
  /** Attach the new volume to this server (it must exist). */
  serverId?: string;
}

export interface RenameServerInput {
  name: string;
}

export type ServerAction = { action: 'resize'; flavor: string } | { action: 'start' } | { action: 'stop' };

export type SnapshotStatus = 'creating' | 'available';

export interface Snapshot {
  id: string;
  /** The server the snapshot was taken of. */
  serverId: string;
  name: string;
  /** 'creating' until the snapshot delay is over; a POST answers only once it is 'available'. */
  status: SnapshotStatus;
  /** GiB: the root disk of the server's flavor when the snapshot started. */
  size: number;
  createdAt: string;
}

export interface CreateSnapshotInput {
  name: string;
}

export interface SettingsStats {
  /** Servers of this settings currently in BUILD. */
  building: number;
  /** Highest value `building` reached since the last reset. */
  peakBuilding: number;
  /** Servers created since the last reset (idempotent replays excluded). */
  serversCreated: number;
  /** Servers that currently exist (DELETING included until they disappear). */
  servers: number;
  /** Volumes created since the last reset (idempotent replays excluded). */
  volumesCreated: number;
  /** Volumes that currently exist (deleting included until they disappear). */
  volumes: number;
  /** Snapshots of this settings' servers completed since the last reset (idempotent replays excluded). */
  snapshotsCreated: number;
  /** Snapshots of this settings' servers in progress now. */
  snapshotting: number;
  /** Highest value `snapshotting` reached since the last reset. */
  peakSnapshotting: number;
}

export interface CloudStats {
  settings: Record<string, SettingsStats>;
  /** Cloud API requests (/servers, /volumes) received since the last reset. */
  requests: number;
  /** Requests refused for a stale fencing token since the last reset. */
  fencingRefusals: number;
  /** Open barriers. */
  barriers: number;
}

export type FaultOp = 'create' | 'delete' | 'get' | 'action' | 'update' | 'build' | 'snapshot';
export type FaultMode = 'error' | 'timeout' | 'http500' | 'delay';
export type FaultResource = 'server' | 'volume';

export interface FaultRuleInput {
  op: FaultOp;
  mode: FaultMode;
  /** Only requests for this settings; every settings when absent. */
  settingsId?: string;
  /** Only servers or only volumes; both when absent. */
  resource?: FaultResource;
  message?: string;
  /** How many times the rule fires; unlimited when absent. */
  count?: number;
  /** Overrides the HTTP status of 'error' (422) and 'http500' (500). */
  statusCode?: number;
  /** Carry the operation out, then fail the response anyway (a lost reply). */
  applied?: boolean;
  /**
   * Mode 'delay' only (and required there): how long the reply is held (for op 'build', how much longer
   * the build takes; for op 'snapshot', how much longer the snapshot takes).
   */
  delayMs?: number;
}

export interface FaultRule {
  id: string;
  op: FaultOp;
  mode: FaultMode;
  settingsId: string | null;
  resource: FaultResource | null;
  message: string | null;
  statusCode: number | null;
  /** Firings left; null means unlimited. */
  remaining: number | null;
  applied: boolean;
  /** Mode 'delay': how long the reply (or the build) is held; null for the other modes. */
  delayMs: number | null;
  /** Times the rule has fired. */
  hits: number;
}

/** The completion points a barrier can hold: a server leaving BUILD, a volume leaving creating / extending. */
export type BarrierOp = 'build' | 'volume-create' | 'volume-extend';

export interface BarrierInput {
  op: BarrierOp;
  /** Only operations of this settings; every settings when absent. */
  settingsId?: string;
  /** How many operations the barrier gathers before it lets them all complete at once. */
  size: number;
}

export interface Barrier {
  id: string;
  op: BarrierOp;
  settingsId: string | null;
  size: number;
  /** Operations currently held by the barrier. */
  waiting: number;
}

export interface ReleasedBarriers {
  /** Barriers removed. */
  cleared: number;
  /** Held operations that were let complete. */
  released: number;
}

export interface CloudDelays {
  buildDelayMs: number;
  deleteDelayMs: number;
  actionDelayMs: number;
  /** How long a snapshot takes (POST /servers/:id/snapshots answers only when it is complete). */
  snapshotDelayMs: number;
}

export interface FencingClaim {
  slot: string;
  token: number;
}

/** Per-request metadata that comes from headers. */
export interface RequestContext {
  idempotencyKey?: string;
  fencing?: FencingClaim;
}

export interface ErrorBody {
  error: { code: string; message: string };
}
