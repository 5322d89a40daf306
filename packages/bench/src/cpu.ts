// CPU time over a phase, read from /proc: the whole machine and each part of it, so a change that
// saves a few per cent of the work per task shows even when the machine's speed moves between runs.
import { readdirSync, readFileSync } from 'node:fs';
import { formatNumber, summarize } from './stats.ts';

/** Where the CPU went: every process of a group summed; `machine` is every CPU of the host. */
export const CPU_GROUPS = ['machine', 'driver', 'workers', 'nats', 'postgres', 'redis'] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];
export type CpuMs = Record<CpuGroup, number>;

/** The processes a phase is measured over: the system's worker processes and the nats-server. */
export interface CpuSources {
  workers: readonly number[];
  nats: number | undefined;
}

/** Linux's USER_HZ: /proc reports CPU time in ticks of 10 ms. */
const TICK_MS = 10;
/** Processes counted by name, wherever they run: every PostgreSQL backend, the Redis server. */
const BY_NAME: Readonly<Record<string, CpuGroup>> = { postgres: 'postgres', 'redis-server': 'redis' };

/**
 * One process's name and CPU ticks from its /proc/<pid>/stat: its own user and system time, and
 * that of the children it has reaped (PostgreSQL's postmaster reaps its backends, so counting it
 * keeps a backend that exits during a phase).
 */
export function processTicks(stat: string): { name: string; own: number; reaped: number } {
  // the name may hold spaces and parentheses: the fields start after its last ')'
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // after the name: state(0) … utime(11) stime(12) cutime(13) cstime(14)
  return { name, own: (fields[11] ?? 0) + (fields[12] ?? 0), reaped: (fields[13] ?? 0) + (fields[14] ?? 0) };
}

/** Busy ticks of every CPU from /proc/stat's first line: user, nice, system, irq and softirq. */
export function machineTicks(procStat: string): number {
  const fields = (procStat.split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return user + nice + system + irq + softirq;
}

function readStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone since the directory was listed
  }
}

/** CPU milliseconds used so far by each group. */
export function readCpu(sources: CpuSources): CpuMs {
  const ticks: CpuMs = { machine: 0, driver: 0, workers: 0, nats: 0, postgres: 0, redis: 0 };
  ticks.machine = machineTicks(readFileSync('/proc/stat', 'utf8'));
  const byPid = new Map<number, CpuGroup>([[process.pid, 'driver']]);
  for (const pid of sources.workers) byPid.set(pid, 'workers');
  if (sources.nats !== undefined) byPid.set(sources.nats, 'nats');
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat === undefined) continue;
    const { name, own, reaped } = processTicks(stat);
    const group = byPid.get(pid) ?? BY_NAME[name];
    if (group !== undefined) ticks[group] += group === 'postgres' ? own + reaped : own;
  }
  for (const group of CPU_GROUPS) ticks[group] *= TICK_MS;
  return ticks;
}

/** Starts measuring; `stop(units)` gives each group's CPU microseconds per unit (task, execution). */
export function startCpuMeter(sources: CpuSources): { stop(units: number): CpuMs } {
  const before = readCpu(sources);
  return {
    stop(units) {
      const after = readCpu(sources);
      const perUnit = {} as CpuMs;
      for (const group of CPU_GROUPS) perUnit[group] = ((after[group] - before[group]) * 1000) / units;
      return perUnit;
    },
  };
}

/** Every round's CPU per unit of each measured phase, by group. */
export class CpuResults {
  readonly #phases = new Map<string, { unit: string; rounds: CpuMs[] }>();

  add(phase: string, unit: string, perUnit: CpuMs): void {
    const entry = this.#phases.get(phase) ?? { unit, rounds: [] };
    entry.rounds.push(perUnit);
    this.#phases.set(phase, entry);
    const parts = CPU_GROUPS.slice(1).map((group) => `${group} ${formatNumber(perUnit[group])}`);
    process.stderr.write(`  ${phase} cpu = ${formatNumber(perUnit.machine)} µs/${unit} (${parts.join(', ')})\n`);
  }

  /** `cpu=<phase> unit=µs/<unit> machine=<median> driver=<median> …` */
  lines(): string[] {
    return [...this.#phases].map(
      ([phase, { unit, rounds }]) =>
        `cpu=${phase} unit=µs/${unit} ${CPU_GROUPS.map((group) => `${group}=${formatNumber(this.#median(rounds, group))}`).join(' ')}`,
    );
  }

  /** The medians as a Markdown table, one row per phase; empty when nothing was measured. */
  markdown(): string {
    if (this.#phases.size === 0) return '';
    const lines = [
      `| CPU per unit, µs (median of the rounds) | unit | ${CPU_GROUPS.join(' | ')} |`,
      `| --- | --- |${CPU_GROUPS.map(() => ' ---: |').join('')}`,
    ];
    for (const [phase, { unit, rounds }] of this.#phases)
      lines.push(
        `| ${phase} | ${unit} | ${CPU_GROUPS.map((group) => formatNumber(this.#median(rounds, group))).join(' | ')} |`,
      );
    return `${lines.join('\n')}\n`;
  }

  #median(rounds: readonly CpuMs[], group: CpuGroup): number {
    return summarize(rounds.map((round) => round[group])).median;
  }
}
