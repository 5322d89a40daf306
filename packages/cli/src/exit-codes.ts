import { JetcelClientError } from '@jetcel/client';
import { P, match } from 'ts-pattern';

/** What `jetcel` exits with; scripts may rely on these. */
export const EXIT = {
  /** The command or query succeeded (a followed execution succeeded). */
  ok: 0,
  /** The operation failed: an error reply (NOT_FOUND, VALIDATION_FAILED, …) or a followed execution failed or was cancelled. */
  failed: 1,
  /** Usage error: unknown subcommand or flag, bad JSON, missing argument. Nothing was sent. */
  usage: 2,
  /** jetcel is unavailable: cannot connect, no responders, a timeout, or an UNAVAILABLE reply. Retrying may help. */
  unavailable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in the command line: exit code 2, nothing sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

export function exitCodeOf(error: unknown): ExitCode {
  return match(error)
    .returnType<ExitCode>()
    .with(P.instanceOf(UsageError), () => EXIT.usage)
    .with(P.instanceOf(JetcelClientError), (failure) =>
      failure.kind === 'transport' || failure.code === 'UNAVAILABLE' ? EXIT.unavailable : EXIT.failed,
    )
    .otherwise(() => EXIT.failed);
}

/** The error as a JSON object (`--json`) and as one human line. */
export function describeError(error: unknown): { json: Record<string, unknown>; line: string } {
  if (error instanceof JetcelClientError) return { json: error.toJSON(), line: `${error.code}: ${error.message}` };
  if (error instanceof UsageError) return { json: { code: 'USAGE', message: error.message }, line: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { json: { code: 'ERROR', message }, line: message };
}
