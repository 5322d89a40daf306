import { randomUUID } from 'node:crypto';
import type { Delivery, Disposition } from '@jetcel/bus';
import { HEADERS, laneOfSubject } from '@jetcel/contracts';
import type { Logger, TaskRegistry } from '@jetcel/core';
import type { ClaimResult } from '@jetcel/db';
import type { SpanHandle } from '@jetcel/telemetry';
import type { DecodedTask } from '../delivery/decode.ts';
import type { DeliveryGate } from '../delivery/gate.ts';
import type { UnknownTaskFailure } from '../execution/unknown-task.ts';
import type { ClaimedStep } from './claimed-step.ts';
import { stepContext } from './label.ts';
import type { Claimed } from './prepare.ts';

/** A delivery's claim: the step claimed (and prepared), or why not. */
export type DeliveryClaim =
  Exclude<ClaimResult, { kind: 'claimed' }> | { kind: 'claimed'; takeover: boolean; value: Claimed };

export interface AcceptDeps<S> {
  gate: DeliveryGate;
  logger: Logger;
  registry: TaskRegistry<S>;
  crashBudget: number;
  /** `resourceRef`: the resource the message names (its header), read by the claim's statement. */
  claim: (stepId: string, token: string, resourceRef: string | undefined) => Promise<DeliveryClaim>;
  /** A step whose message is dead-lettered as naming an unknown task: fail it and its execution, in the dead letter's commit. */
  failUnknown: (stepId: string, what: string, log: Logger) => UnknownTaskFailure;
}

/** What a delivered message becomes: settled here (dead letter, hand-back, skip), or a claimed step to run. */
export type Accepted<S> = { kind: 'settled'; disposition: Disposition } | { kind: 'run'; step: ClaimedStep<S> };

/** The delivery gate of a step message: decode, unknown tasks, dead letters, the claim and its crash budget. */
export async function acceptDelivery<S>(
  deps: AcceptDeps<S>,
  decoded: DecodedTask,
  delivery: Delivery,
  span: SpanHandle,
): Promise<Accepted<S>> {
  const { gate, logger } = deps;
  const settled = (disposition: Disposition): Accepted<S> => ({ kind: 'settled', disposition });
  if (decoded.kind === 'undecodable')
    return settled(await gate.letter(delivery, logger, 'UNDECODABLE', decoded.reason));
  if (decoded.kind === 'background')
    return settled(
      await gate.letter(delivery, logger, 'UNDECODABLE', 'a background task message where a step was expected'),
    );
  const message = decoded.message;
  labelStepSpan(span, { ...message, id: message.stepId });
  const ids = { executionId: message.executionId, stepId: message.stepId };
  const log = logger.child({ ...ids, task: message.task, actor: delivery.headers[HEADERS.actor] ?? null });
  const task = decoded.kind === 'newer_version' ? undefined : deps.registry.get(message.task);
  if (!task) {
    // Rolling upgrades: a newer worker may be on its way; wait out the grace period.
    const what = decoded.kind === 'newer_version' ? `message version ${message.v}` : `task ${message.task}`;
    const failing = deps.failUnknown(message.stepId, what, log);
    const verdict = await gate.unknownTask(delivery, log, what, ids, failing.inCommit);
    if (verdict.kind === 'term') await failing.afterCommit();
    return settled(verdict);
  }
  const token = randomUUID();
  const claim = await deps.claim(message.stepId, token, delivery.headers[HEADERS.resource]);
  if (claim.kind !== 'claimed') {
    if (claim.kind === 'unknown_step')
      return settled(
        await gate.letter(
          delivery,
          logger,
          'UNATTRIBUTABLE',
          `no step ${message.stepId} of execution ${message.executionId}`,
        ),
      );
    log.debug('delivery skipped', { reason: claim.kind });
    return settled({ kind: 'ack' });
  }
  const { step } = claim.value;
  if (step.takeovers > deps.crashBudget)
    // It keeps killing its workers (a poison message): stop feeding it to them.
    return settled(
      await gate.letter(
        delivery,
        logger,
        'CRASH_BUDGET',
        `step taken over ${step.takeovers} times after its holder died (budget ${deps.crashBudget})`,
        { executionId: step.executionId, stepId: step.id },
      ),
    );
  const stepLog = log.child(stepContext(step));
  stepLog.info('step started', { takeover: claim.takeover });
  return {
    kind: 'run',
    step: {
      claimed: claim.value,
      token,
      task,
      log: stepLog,
      admitted: null,
      chain: 1,
      lane: laneOfSubject(delivery.subject),
    },
  };
}

/** Names a step's span after its task and tags it with the step, its execution and its queue. */
export function labelStepSpan(
  span: SpanHandle,
  step: { task: string; queue: string; executionId: string; id: string },
): void {
  span.rename(`step ${step.task}`);
  span.set({
    'jetcel.task': step.task,
    'jetcel.queue': step.queue,
    'jetcel.execution_id': step.executionId,
    'jetcel.step_id': step.id,
  });
}
