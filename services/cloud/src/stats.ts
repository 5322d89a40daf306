import type { CloudStats, SettingsStats } from './types.ts';

/** Per-settings build and snapshot concurrency, server, volume and snapshot counts, plus the request counter. */
export class StatsBook {
  readonly #settings = new Map<string, SettingsStats>();
  #requests = 0;
  #fencingRefusals = 0;

  #entry(settingsId: string): SettingsStats {
    let entry = this.#settings.get(settingsId);
    if (entry === undefined) {
      entry = {
        building: 0,
        peakBuilding: 0,
        serversCreated: 0,
        servers: 0,
        volumesCreated: 0,
        volumes: 0,
        snapshotsCreated: 0,
        snapshotting: 0,
        peakSnapshotting: 0,
      };
      this.#settings.set(settingsId, entry);
    }
    return entry;
  }

  /** A new server exists and is building. */
  serverCreated(settingsId: string): void {
    const entry = this.#entry(settingsId);
    entry.serversCreated += 1;
    entry.servers += 1;
    entry.building += 1;
    entry.peakBuilding = Math.max(entry.peakBuilding, entry.building);
  }

  /** A server left BUILD (ACTIVE, ERROR or deleted). */
  buildEnded(settingsId: string): void {
    const entry = this.#entry(settingsId);
    entry.building = Math.max(0, entry.building - 1);
  }

  /** A server is gone for good. */
  serverRemoved(settingsId: string): void {
    const entry = this.#entry(settingsId);
    entry.servers = Math.max(0, entry.servers - 1);
  }

  /** A new volume exists. */
  volumeCreated(settingsId: string): void {
    const entry = this.#entry(settingsId);
    entry.volumesCreated += 1;
    entry.volumes += 1;
  }

  /** A volume is gone for good. */
  volumeRemoved(settingsId: string): void {
    const entry = this.#entry(settingsId);
    entry.volumes = Math.max(0, entry.volumes - 1);
  }

  /** A snapshot of one of this settings' servers started. */
  snapshotStarted(settingsId: string): void {
    const entry = this.#entry(settingsId);
    entry.snapshotting += 1;
    entry.peakSnapshotting = Math.max(entry.peakSnapshotting, entry.snapshotting);
  }

  /** A snapshot in progress became available. */
  snapshotCompleted(settingsId: string): void {
    const entry = this.#entry(settingsId);
    entry.snapshotting = Math.max(0, entry.snapshotting - 1);
    entry.snapshotsCreated += 1;
  }

  countRequest(): void {
    this.#requests += 1;
  }

  countFencingRefusal(): void {
    this.#fencingRefusals += 1;
  }

  /** Peaks drop to the current level; counters restart at zero. Live gauges stay. */
  reset(): void {
    this.#requests = 0;
    this.#fencingRefusals = 0;
    for (const entry of this.#settings.values()) {
      entry.peakBuilding = entry.building;
      entry.peakSnapshotting = entry.snapshotting;
      entry.serversCreated = 0;
      entry.volumesCreated = 0;
      entry.snapshotsCreated = 0;
    }
  }

  /** Forgets everything (used when the whole cloud is wiped). */
  clear(): void {
    this.#requests = 0;
    this.#fencingRefusals = 0;
    this.#settings.clear();
  }

  /** `barriers` is the number of open barriers, which the barrier book owns. */
  snapshot(barriers: number): CloudStats {
    const settings: Record<string, SettingsStats> = {};
    for (const [settingsId, entry] of this.#settings) settings[settingsId] = { ...entry };
    return { settings, requests: this.#requests, fencingRefusals: this.#fencingRefusals, barriers };
  }
}
