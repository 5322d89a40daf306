/** A reply on a cmd.* or query.* subject, as the bus returns it. */
export type Reply =
  | { ok: true; data: unknown }
  | { ok: false; error: { code: string; message: string; retryable: boolean; details?: unknown } };

/** The data of a reply that must be ok; throws with the error otherwise. */
export function dataOf<T = Record<string, unknown>>(reply: Reply): T {
  if (!reply.ok) throw new Error(`expected ok reply, got ${JSON.stringify(reply.error)}`);
  return reply.data as T;
}
