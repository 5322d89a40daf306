import { backgroundMessageSchema, type BackgroundMessage } from '@jetcel/contracts';

/** What a task queue message is, decided once from its JSON (`kind: 'background'` or a step). */
export type TaskDelivery =
  | { kind: 'background'; message: BackgroundMessage }
  | { kind: 'step' }
  | { kind: 'malformed_background'; reason: string };

/**
 * Background messages carry `kind: 'background'`; everything else is a step message, which the
 * step runner decodes (and dead-letters when it cannot).
 */
export function classifyTaskDelivery(data: Uint8Array): TaskDelivery {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return { kind: 'step' };
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { kind?: unknown }).kind !== 'background')
    return { kind: 'step' };
  const result = backgroundMessageSchema.safeParse(parsed);
  return result.success
    ? { kind: 'background', message: result.data }
    : { kind: 'malformed_background', reason: result.error.message };
}
