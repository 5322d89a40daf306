import { RESOURCE_STATES } from '@jetcel/core';
import { EXIT, UsageError } from '../exit-codes.ts';
import { intOption, stringOption } from '../global-options.ts';
import { formatTime, renderTable } from '../table.ts';
import type { CommandSpec } from '../spec.ts';

const STATES: readonly string[] = RESOURCE_STATES;

export const resourcesCommand: CommandSpec = {
  name: 'resources',
  summary: 'resources by state: counts per type and state, then the newest resources',
  options: {
    type: { type: 'string', help: 'one resource type (default: every registered type)' },
    state: { type: 'string', help: `only resources in this state (${STATES.join(', ')})` },
    limit: { type: 'string', help: 'resources listed per type (0-500, default 50; 0: counts only)' },
  },
  async run(context) {
    const type = stringOption(context.values, 'type');
    const state = stringOption(context.values, 'state')?.toUpperCase();
    if (state !== undefined && !STATES.includes(state))
      throw new UsageError(`--state must be one of ${STATES.join(', ')}, got "${state}"`);
    const limit = intOption(context.values, 'limit', 0, 500);
    const view = await (
      await context.client()
    ).listResources({
      ...(type ? { type } : {}),
      ...(state ? { state } : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
    if (context.json) {
      context.output.out(JSON.stringify(view));
      return EXIT.ok;
    }
    const states = STATES.filter((name) => view.types.some((entry) => (entry.byState[name] ?? 0) > 0));
    context.output.out(
      renderTable(
        ['type', 'total', ...states],
        view.types.map((entry) => [entry.type, entry.total, ...states.map((name) => entry.byState[name] ?? 0)]),
      ),
    );
    if (view.items.length > 0)
      context.output.out(
        `\n${renderTable(
          ['type', 'id', 'state', 'backend id', 'modified', 'error'],
          view.items.map((item) => [
            item.type,
            item.id,
            item.state,
            item.backendId,
            formatTime(item.modifiedAt),
            item.errorMessage,
          ]),
        )}`,
      );
    return EXIT.ok;
  },
};
