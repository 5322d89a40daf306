import { EXIT } from '../exit-codes.ts';
import { intOption, stringOption } from '../global-options.ts';
import { formatTime, renderTable } from '../table.ts';
import { emit, type CommandSpec } from '../spec.ts';

export const deadLettersListCommand: CommandSpec = {
  name: 'dead-letters list',
  summary: 'dead letters, newest first',
  options: {
    reason: { type: 'string', help: 'only this reason (e.g. crash_budget)' },
    pending: { type: 'boolean', help: 'only letters not yet re-driven' },
    limit: { type: 'string', help: 'at most N (1-500)' },
  },
  async run(context) {
    const reason = stringOption(context.values, 'reason');
    const limit = intOption(context.values, 'limit', 1, 500);
    const items = await (
      await context.client()
    ).listDeadLetters({
      ...(reason ? { reason } : {}),
      ...(context.values.pending ? { pending: true } : {}),
      ...(limit ? { limit } : {}),
    });
    emit(context, { items }, () =>
      renderTable(
        ['id', 'reason', 'subject', 'execution', 'step', 'deliveries', 'created', 'redriven', 'detail'],
        items.map((letter) => [
          letter.id,
          letter.reason,
          letter.subject,
          letter.executionId,
          letter.stepId,
          letter.deliveryCount,
          formatTime(letter.createdAt),
          formatTime(letter.redrivenAt),
          letter.detail,
        ]),
      ),
    );
    return EXIT.ok;
  },
};

export const deadLettersRedriveCommand: CommandSpec = {
  name: 'dead-letters redrive',
  argsUsage: '<deadLetterId>',
  summary: 're-drive a dead letter: its step is queued again with a fresh crash budget',
  positionals: { min: 1, max: 1 },
  async run(context) {
    const letter = await (await context.client()).redriveDeadLetter(context.args[0] ?? '');
    emit(context, letter, () => `dead letter ${letter.id} re-driven at ${formatTime(letter.redrivenAt)}`);
    return EXIT.ok;
  },
};
