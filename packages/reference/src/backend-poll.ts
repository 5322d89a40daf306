import { BackendError, defineTask, done, pollAgain, type ArgsParser, type ResourcePatch } from '@jetcel/core';
import type { CallOptions, CloudClient } from './cloud-client.ts';
import type { ReferenceConfig } from './config.ts';
import { requireBackendId, requireResource } from './fields.ts';
import type { ReferenceServices } from './services.ts';

/** How one kind of backend object is polled until it is where a step waits for it. */
interface PolledObject<A, O extends { id: string; status: string; fault?: string }> {
  task: string;
  args: ArgsParser<A>;
  timeoutMs?: number;
  /** The object's name in an error message ("Server"), and the status that fails the step ("ERROR"). */
  noun: string;
  errorStatus: string;
  get(cloud: CloudClient, id: string, options: CallOptions): Promise<O>;
  /** The fields to record once the object has arrived; null while it has not. */
  arrived(object: O, args: A): ResourcePatch | null;
}

/**
 * Polling task: each re-check is a delayed step through the outbox, never a parked message. The
 * runtime state follows the backend's status; the error status fails the step with its fault.
 */
export function backendPollTask<A, O extends { id: string; status: string; fault?: string }>(
  object: PolledObject<A, O>,
  config: ReferenceConfig,
) {
  return defineTask<A, ReferenceServices>({
    name: object.task,
    args: object.args,
    pollIntervalMs: config.pollIntervalMs,
    maxPolls: config.maxPolls,
    retry: { maxAttempts: 5, initialDelayMs: 1000 },
    ...(object.timeoutMs ? { timeoutMs: object.timeoutMs } : {}),
    sideEffects: false,
    async run(ctx, args) {
      const resource = requireResource(ctx.resource, object.task);
      const current = await object.get(ctx.services.cloud, requireBackendId(resource), { signal: ctx.signal });
      const patch = current.status === resource.runtimeState ? undefined : { runtimeState: current.status };
      if (current.status === object.errorStatus) {
        const message = current.fault ?? `${object.noun} went into ${object.errorStatus}`;
        throw new BackendError(`${object.noun} ${current.id} went into ${object.errorStatus}: ${message}`, {
          userMessage: message,
        });
      }
      const arrived = object.arrived(current, args);
      return arrived ? done({ ...patch, ...arrived }) : pollAgain(undefined, patch);
    },
  });
}
