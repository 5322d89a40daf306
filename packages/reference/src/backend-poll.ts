import { definePollRuntimeStateTask, type ArgsParser, type ResourcePatch } from '@jetcel/core';
import type { CallOptions, CloudClient } from './cloud-client.ts';
import type { ReferenceConfig } from './config.ts';
import { requireBackendId } from './fields.ts';
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
 * Polling task, core's PollRuntimeStateTask: each re-check is a delayed step through the outbox,
 * never a parked message. The runtime state follows the backend's status; the error status fails
 * the step with its fault.
 */
export function backendPollTask<A, O extends { id: string; status: string; fault?: string }>(
  object: PolledObject<A, O>,
  config: ReferenceConfig,
) {
  return definePollRuntimeStateTask<A, ReferenceServices, O>({
    name: object.task,
    args: object.args,
    noun: object.noun,
    pollIntervalMs: config.pollIntervalMs,
    maxPolls: config.maxPolls,
    ...(object.timeoutMs ? { timeoutMs: object.timeoutMs } : {}),
    async read(ctx, resource) {
      const current = await object.get(ctx.services.cloud, requireBackendId(resource), { signal: ctx.signal });
      return { state: current.status, object: current, ...(current.fault ? { fault: current.fault } : {}) };
    },
    rule: (args) => {
      const arrived = (reading: { object?: O }) => (reading.object ? object.arrived(reading.object, args) : null);
      return {
        success: (reading) => arrived(reading) !== null,
        erred: [object.errorStatus],
        onSuccess: (reading) => arrived(reading) ?? {},
      };
    },
  });
}
