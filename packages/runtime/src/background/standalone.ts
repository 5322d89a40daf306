import { randomUUID } from 'node:crypto';
import { HEADERS, MAX_TASK_ARGS_BYTES, parseResourceRef } from '@jetcel/contracts';
import { publish, type Bus } from '@jetcel/bus';
import { ValidationError, type Json } from '@jetcel/core';
import { BACKGROUND_SUBJECT, standaloneMessage } from './messages.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';

export interface StandalonePublishOptions {
  /** "<type>:<id>": the worker loads it into `ctx.resource` (a gone row skips the task). */
  resource?: string;
  actor?: string;
}

export interface StandalonePublisher {
  /** Publishes the task now and resolves once JetStream stored it; returns the message id. */
  publish(task: string, args?: Json, options?: StandalonePublishOptions): Promise<{ msgId: string }>;
}

/**
 * The standalone-task API, the one documented way to publish a task without an outbox
 * row: a background task goes straight to tasks.background with a random message id. There is no
 * execution, no run row (so no equality and no claim) and no throttle: it runs at least once
 * (twice if a worker dies mid-run, or if you publish twice), and a failure is logged, not retried.
 * Use it only for work that is idempotent by nature and that nothing waits for.
 */
export function createStandalonePublisher(bus: Bus, options: { catalog?: TaskCatalog } = {}): StandalonePublisher {
  return {
    async publish(task, args = {}, publishOptions = {}) {
      const definition = options.catalog?.get(task);
      if (options.catalog && definition?.queue !== 'background')
        throw new ValidationError(`Task ${task} is not a background task known to this catalog`);
      const resource = publishOptions.resource ?? null;
      if (resource !== null) parseResourceRef(resource);
      const payload = JSON.stringify(standaloneMessage(task, args, resource));
      if (Buffer.byteLength(payload) > MAX_TASK_ARGS_BYTES)
        throw new ValidationError(`Standalone task ${task} is larger than ${MAX_TASK_ARGS_BYTES} bytes`);
      const msgId = randomUUID();
      await publish(bus, BACKGROUND_SUBJECT, payload, {
        msgId,
        ...(publishOptions.actor ? { headers: { [HEADERS.actor]: publishOptions.actor } } : {}),
      });
      return { msgId };
    },
  };
}
