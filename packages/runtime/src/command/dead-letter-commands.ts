import { z } from 'zod';
import { commandSubject, querySubject, type DeadLetterView } from '@jetcel/contracts';
import { InvalidStateError, NotFoundError } from '@jetcel/core';
import { DEAD_LETTER_REASONS, type DeadLetterRecord } from '@jetcel/db';
import { adminOnly, defineCommand, defineQuery, type CommandDefinition } from './commands.ts';
import { frameworkTx } from './context.ts';
import { addStepMessage } from '../execution/step-messages.ts';

export function deadLetterView(letter: DeadLetterRecord): DeadLetterView {
  return {
    id: letter.id,
    reason: letter.reason,
    detail: letter.detail,
    subject: letter.subject,
    payload: letter.payload,
    payloadEncoding: letter.payloadEncoding,
    executionId: letter.executionId,
    stepId: letter.stepId,
    deliveryCount: letter.deliveryCount,
    createdAt: letter.createdAt.toISOString(),
    redrivenAt: letter.redrivenAt?.toISOString() ?? null,
  };
}

/** query.dead_letter.list and cmd.dead_letter.redrive: admins see and re-drive dead letters. */
export function deadLetterCommands(): Array<CommandDefinition<never>> {
  const commands = [
    adminOnly(
      defineQuery({
        subject: querySubject('dead_letter', 'list'),
        input: z.strictObject({
          reason: z.enum(DEAD_LETTER_REASONS).optional(),
          pending: z.boolean().optional(),
          limit: z.number().int().min(1).max(500).optional(),
        }),
        async handle(ctx, input) {
          return { items: (await frameworkTx(ctx).deadLetters.list(input)).map(deadLetterView) };
        },
      }),
    ),
    adminOnly(
      defineCommand({
        subject: commandSubject('dead_letter', 'redrive'),
        input: z.strictObject({ id: z.uuid() }),
        async handle(ctx, input) {
          const tx = frameworkTx(ctx);
          const letter = await tx.deadLetters.get(input.id, { forUpdate: true });
          if (!letter) throw new NotFoundError('Dead letter', input.id);
          if (letter.redrivenAt) throw new InvalidStateError(`Dead letter ${input.id} was already re-driven`);
          if (letter.stepId) {
            // The step is queued again with a fresh crash budget and published with a fresh message id.
            const step = await tx.steps.revive(letter.stepId);
            if (!step) throw new InvalidStateError(`The step of dead letter ${input.id} is no longer dead-lettered`);
            const execution = await tx.executions.get(step.executionId);
            addStepMessage(tx, step, execution?.actor ?? null);
          } else {
            if (letter.payloadEncoding !== 'utf8')
              throw new InvalidStateError('A binary payload that names no step cannot be re-driven');
            tx.outbox.add({ subject: letter.subject, payload: letter.payload, headers: letter.headers });
          }
          await tx.deadLetters.markRedriven(letter.id);
          return deadLetterView({ ...letter, redrivenAt: new Date() });
        },
      }),
    ),
  ];
  return commands as Array<CommandDefinition<never>>;
}
