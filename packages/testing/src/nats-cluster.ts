import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, terminate } from './child-exit.ts';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';
import { launchNats, NATS_HOST as HOST, type NatsProcess } from './nats-process.ts';
import { trackCleanup } from './process-registry.ts';

const START_TIMEOUT_MS = 10_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** Attempts at the first start: ports come from freePort(), so another process may take one in between. */
const START_ATTEMPTS = 3;

export interface StartNatsClusterOptions {
  /** Number of nodes; default 3. */
  size?: number;
  /** The cluster name (`cluster { name }`); default `jetcel-test`. */
  name?: string;
  /** Extra configuration text appended to every node's file. */
  config?: string;
  /** How long startNatsCluster() waits for a JetStream meta leader; default 30 s. */
  readyTimeoutMs?: number;
}

/** What a node's monitoring endpoint `/jsz` says about the JetStream meta group. */
export interface MetaClusterView {
  name: string;
  /** The meta leader's server_name, or '' while there is none. */
  leader: string;
  clusterSize: number;
  replicas: Array<{ name: string; current: boolean; offline: boolean }>;
}

export interface NatsClusterNode {
  /** `server_name`: `node-1` … `node-<size>`. */
  readonly name: string;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The route port (`cluster { listen }`). */
  readonly clusterPort: number;
  /** `http://127.0.0.1:<port>` of the monitoring endpoint (`/healthz`, `/jsz`, `/routez`…). */
  readonly monitorUrl: string;
  /** The JetStream store dir; kept by stop() and kill(), removed by the cluster's dispose. */
  readonly storeDir: string;
  /** The pid of the running server process, or undefined while it is stopped. */
  readonly pid: number | undefined;
  /** True while the process runs. */
  readonly running: boolean;
  /** The server's log lines since the last start. */
  logs(): string[];
  /** Sends `signal` (default SIGKILL) without waiting: a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then wait for the process to exit (SIGKILL after 10 s). Keeps the store dir. */
  stop(): Promise<void>;
  /**
   * Starts a stopped or killed node again with the same ports, config and store, and resolves once
   * it answers INFO (no-op while it runs). It rejoins the cluster by itself; wait with
   * `cluster.waitReady()` if the test needs it caught up.
   */
  start(): Promise<void>;
  /** This node's view of the JetStream meta group (monitoring `/jsz`). */
  meta(): Promise<MetaClusterView>;
}

export interface NatsCluster {
  /** The cluster name. */
  readonly name: string;
  /** Every node's client URL, for `servers: urls` or `NATS_URL=urls.join(',')`. */
  readonly urls: string[];
  readonly nodes: NatsClusterNode[];
  /** The node that is the JetStream meta leader now, as the running nodes see it. */
  metaLeader(): Promise<NatsClusterNode | undefined>;
  /**
   * Resolves once every running node's JetStream is healthy and current with the meta group
   * (`/healthz?js-server-only=true`), they all name the same meta leader and it is one of them:
   * the cluster can create replicated assets. A restarted node's streams and consumers may still be
   * catching up; wait for those through the JetStream API (stream info `cluster.replicas[].current`).
   */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM, wait). Keeps the store dirs, so nodes can be start()ed again. */
  stop(): Promise<void>;
  /** Stops every node and removes the temp dir (every store dir). */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Ports {
  client: number;
  cluster: number;
  monitor: number;
}

/**
 * Starts a private nats-server cluster on 127.0.0.1 (default three nodes): one process per node
 * with its own config file (`server_name`, `listen`, `http`, `jetstream { store_dir }`,
 * `cluster { name, listen, routes }` listing every node's route), random free ports and temp store
 * dirs. Resolves once the cluster is ready (see `waitReady`). Every node is SIGKILLed and the temp
 * dir removed if the test process exits.
 */
export async function startNatsCluster(options: StartNatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new TypeError(`size must be a positive integer, got ${size}`);
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
    const cluster = await createCluster(size, options);
    try {
      await Promise.all(cluster.nodes.map((node) => node.start()));
      await cluster.waitReady(options.readyTimeoutMs ?? READY_TIMEOUT_MS);
      return cluster;
    } catch (error) {
      lastError = error;
      await cluster[Symbol.asyncDispose]().catch(() => {});
      const portTaken = String((error as Error)?.message).includes('address already in use');
      if (!portTaken) break;
    }
  }
  throw lastError;
}

async function createCluster(size: number, options: StartNatsClusterOptions): Promise<NatsCluster> {
  const clusterName = options.name ?? 'jetcel-test';
  const baseDir = await mkdtemp(join(tmpdir(), 'jetcel-nats-cluster-'));
  // the children are SIGKILLed by the registry; this removes their temp dir too
  const untrack = trackCleanup(() => rmSync(baseDir, { recursive: true, force: true }));
  const ports: Ports[] = [];
  for (let index = 0; index < size; index += 1) {
    ports.push({ client: await freePort(), cluster: await freePort(), monitor: await freePort() });
  }
  const routes = ports.map((port) => `nats-route://${HOST}:${port.cluster}`);
  const nodes: Node[] = [];
  try {
    for (const [index, port] of ports.entries()) {
      const name = `node-${index + 1}`;
      const dir = join(baseDir, name);
      const storeDir = join(dir, 'store');
      await mkdir(storeDir, { recursive: true });
      const configFile = join(dir, 'nats.conf');
      await writeFile(configFile, nodeConfig({ name, clusterName, port, storeDir, routes, extra: options.config }));
      nodes.push(new Node(name, port, storeDir, configFile));
    }
  } catch (error) {
    untrack();
    await rm(baseDir, { recursive: true, force: true });
    throw error;
  }

  const running = (): Node[] => nodes.filter((node) => node.running);
  /** What each running node that answers says about the meta group. */
  const views = async (): Promise<Array<{ node: Node; meta: MetaClusterView }>> => {
    const settled = await Promise.allSettled(running().map(async (node) => ({ node, meta: await node.meta() })));
    return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  };

  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };

  return {
    name: clusterName,
    urls: nodes.map((node) => node.url),
    nodes,
    async metaLeader() {
      const seen = await views();
      const leader = seen.find(({ meta }) => meta.leader !== '')?.meta.leader;
      return nodes.find((node) => node.name === leader && node.running);
    },
    async waitReady(timeoutMs = READY_TIMEOUT_MS) {
      let last = '';
      await eventually(
        async () => {
          const up = running();
          if (up.length === 0) {
            last = 'no node is running';
            return false;
          }
          const healthy = await Promise.all(up.map((node) => node.healthy()));
          const sick = up.filter((_, index) => !healthy[index]).map((node) => node.name);
          if (sick.length > 0) {
            last = `not healthy yet: ${sick.join(', ')}`;
            return false;
          }
          const leaders = new Set((await views()).map(({ meta }) => meta.leader));
          const [leader] = leaders;
          last = `meta leader as each running node sees it: ${JSON.stringify([...leaders])}`;
          return leaders.size === 1 && leader !== undefined && up.some((node) => node.name === leader);
        },
        { timeoutMs, intervalMs: 100 },
      ).catch((error: unknown) => {
        const logs = nodes.map((node) => `--- ${node.name} ---\n${node.excerpt()}`).join('\n');
        throw new Error(`nats cluster ${clusterName} did not become ready: ${last}\n${logs}`, { cause: error });
      });
    },
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      untrack();
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}

function nodeConfig(input: {
  name: string;
  clusterName: string;
  port: Ports;
  storeDir: string;
  routes: string[];
  extra: string | undefined;
}): string {
  return [
    `server_name: ${input.name}`,
    `listen: ${HOST}:${input.port.client}`,
    `http: ${HOST}:${input.port.monitor}`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(input.storeDir)}`,
    `}`,
    `cluster {`,
    `  name: ${input.clusterName}`,
    `  listen: ${HOST}:${input.port.cluster}`,
    `  routes: [`,
    ...input.routes.map((route) => `    ${route}`),
    `  ]`,
    `}`,
    input.extra ?? '',
    '',
  ].join('\n');
}

class Node implements NatsClusterNode {
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly monitorUrl: string;
  #current: NatsProcess | undefined;
  #starting: Promise<void> | undefined;

  constructor(
    readonly name: string,
    ports: Ports,
    readonly storeDir: string,
    private readonly configFile: string,
  ) {
    this.port = ports.client;
    this.clusterPort = ports.cluster;
    this.url = `nats://${HOST}:${ports.client}`;
    this.monitorUrl = `http://${HOST}:${ports.monitor}`;
  }

  get pid(): number | undefined {
    return this.#current && isAlive(this.#current.child) ? this.#current.child.pid : undefined;
  }

  get running(): boolean {
    return this.#current !== undefined && isAlive(this.#current.child);
  }

  logs(): string[] {
    return this.#current?.output.lines() ?? [];
  }

  excerpt(): string {
    return this.#current?.output.excerpt() ?? '(never started)';
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#current && isAlive(this.#current.child)) this.#current.child.kill(signal);
  }

  async stop(): Promise<void> {
    await this.#starting?.catch(() => {});
    if (this.#current) await terminate(this.#current.child, this.#current.exited, STOP_GRACE_MS);
  }

  start(): Promise<void> {
    if (this.running) return this.#starting ?? Promise.resolve();
    this.#starting = this.#launch();
    return this.#starting;
  }

  async meta(): Promise<MetaClusterView> {
    const response = await fetch(`${this.monitorUrl}/jsz`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as { meta_cluster?: RawMeta };
    const meta = body.meta_cluster;
    return {
      name: meta?.name ?? '',
      leader: meta?.leader ?? '',
      clusterSize: meta?.cluster_size ?? 0,
      replicas: (meta?.replicas ?? []).map((replica) => ({
        name: replica.name,
        current: replica.current === true,
        offline: replica.offline === true,
      })),
    };
  }

  /**
   * `/healthz?js-server-only=true` answers ok: the server runs and its JetStream is current with the
   * meta group. Streams and consumers are left out on purpose: on 2.9.10 a restarted node reports an
   * idle R3 durable consumer "not current" on the full `/healthz` for minutes.
   */
  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.monitorUrl}/healthz?js-server-only=true`, {
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await response.json()) as { status?: string };
      return response.ok && body.status === 'ok';
    } catch {
      return false;
    }
  }

  async #launch(): Promise<void> {
    this.#current = launchNats({
      args: ['-c', this.configFile],
      label: `nats-server ${this.name}`,
      port: this.port,
      timeoutMs: START_TIMEOUT_MS,
    });
    await this.#current.ready;
  }
}

interface RawMeta {
  name?: string;
  leader?: string;
  cluster_size?: number;
  replicas?: Array<{ name: string; current?: boolean; offline?: boolean }>;
}
