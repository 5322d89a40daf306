import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudState } from './cloud-state.ts';
import { createCloudListener } from './http.ts';
import { connectHost, urlHost } from './host.ts';

export interface StartCloudOptions {
  /** Default 0: a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  buildDelayMs?: number;
  deleteDelayMs?: number;
  actionDelayMs?: number;
  /** How long a snapshot takes (default 5000). */
  snapshotDelayMs?: number;
}

export interface RunningCloud {
  /** Base URL a local client can use, e.g. http://127.0.0.1:40123. */
  url: string;
  port: number;
  state: CloudState;
  /**
   * Stops listening, drops every connection (hung requests, snapshot requests still waiting and
   * replies held back by a delay fault included) and cancels pending timers.
   */
  close(): Promise<void>;
}

/** Starts the simulated cloud in this process. */
export async function startCloud(options: StartCloudOptions = {}): Promise<RunningCloud> {
  const host = options.host ?? '127.0.0.1';
  const state = new CloudState({
    ...(options.buildDelayMs === undefined ? {} : { buildDelayMs: options.buildDelayMs }),
    ...(options.deleteDelayMs === undefined ? {} : { deleteDelayMs: options.deleteDelayMs }),
    ...(options.actionDelayMs === undefined ? {} : { actionDelayMs: options.actionDelayMs }),
    ...(options.snapshotDelayMs === undefined ? {} : { snapshotDelayMs: options.snapshotDelayMs }),
  });
  const cloud = createCloudListener(state);
  const server = createServer(cloud.listener);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      state.dispose();
      server.close((error) => (error === undefined ? resolve() : reject(error)));
      cloud.releaseHung();
      cloud.releaseWorking();
      cloud.releaseDelayed();
      server.closeAllConnections();
    });
    return closing;
  };

  return { url: `http://${urlHost(connectHost(host))}:${port}`, port, state, close };
}
