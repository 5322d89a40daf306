import type { ExecutionView } from '@jetcel/client';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.ts';
import { intOption, stringOption } from '../global-options.ts';
import { outcomeLine, progressLines } from '../render-execution.ts';
import type { CommandSpec } from '../spec.ts';

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`The body is not valid JSON: ${(error as Error).message}`);
  }
}

const executionIdOf = (data: unknown): string | null =>
  typeof data === 'object' && data !== null && 'executionId' in data && typeof data.executionId === 'string'
    ? data.executionId
    : null;

export const sendCommand: CommandSpec = {
  name: 'send',
  argsUsage: '<subject> [json]',
  summary: 'send a command or query (cmd.* / query.*); --follow shows its execution until it ends',
  positionals: { min: 1, max: 2 },
  options: {
    follow: {
      type: 'boolean',
      short: 'f',
      help: 'follow the execution the reply names; exit 1 if it fails or is cancelled',
    },
    'idempotency-key': { type: 'string', help: 'the Idempotency-Key to send (default: a fresh UUID)' },
    interval: { type: 'string', help: 'poll period while following, ms (default 500)' },
  },
  async run(context): Promise<ExitCode> {
    const [subject = '', bodyText = '{}'] = context.args;
    const body = parseBody(bodyText);
    const interval = intOption(context.values, 'interval', 50, 60_000);
    const key = stringOption(context.values, 'idempotency-key');
    const client = await context.client();
    const data = await client.request(subject, body, key ? { idempotencyKey: key } : {});
    const executionId = context.values.follow ? executionIdOf(data) : null;
    if (!executionId) {
      if (context.values.follow && !context.json) context.output.err('the reply names no execution: nothing to follow');
      context.output.out(JSON.stringify(data, null, context.json ? undefined : 2));
      return EXIT.ok;
    }
    if (!context.json) context.output.out(`${subject} accepted: execution ${executionId}`);
    let previous: ExecutionView | null = null;
    const execution = await client.followExecution(executionId, {
      ...(interval ? { intervalMs: interval } : {}),
      signal: context.signal,
      onUpdate: (next) => {
        if (!context.json) for (const line of progressLines(previous, next)) context.output.out(line);
        previous = next;
      },
    });
    if (context.json) context.output.out(JSON.stringify({ reply: data, execution }));
    else context.output.out(outcomeLine(execution));
    return execution.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  },
};
