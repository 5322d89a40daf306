import { TERMINAL_EXECUTION_STATUSES, type ExecutionView } from '@jetcel/contracts';

export interface FollowOptions {
  /** Poll period. @defaultValue 500 */
  intervalMs?: number;
  /** Called with the first view and then whenever the execution or one of its steps changed. */
  onUpdate?: (execution: ExecutionView) => void;
  /** Stops following (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

export const isTerminal = (status: string): boolean =>
  (TERMINAL_EXECUTION_STATUSES as readonly string[]).includes(status);

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Polls `get` until the execution is terminal (succeeded, failed, cancelled) and returns its last view. */
export async function followExecution(
  get: () => Promise<ExecutionView>,
  options: FollowOptions = {},
): Promise<ExecutionView> {
  let last = '';
  for (;;) {
    const execution = await get();
    const fingerprint = JSON.stringify(execution);
    if (fingerprint !== last) {
      last = fingerprint;
      options.onUpdate?.(execution);
    }
    if (isTerminal(execution.status)) return execution;
    await sleep(options.intervalMs ?? 500, options.signal);
  }
}
