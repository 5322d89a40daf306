/** Two executors declare different limits for one throttle kind: which one holds is unclear. */
export class ThrottleLimitConflictError extends Error {
  readonly code = 'THROTTLE_LIMIT_CONFLICT';
  constructor(
    readonly kind: string,
    readonly limits: readonly [number, number],
  ) {
    super(`Throttle kind ${kind} is declared with limit ${limits[0]} and with limit ${limits[1]}; declare one`);
    this.name = 'ThrottleLimitConflictError';
  }
}

/**
 * The per-kind throttle limits the executors and background tasks declare in code (`throttle: {
 * kind, scope, limit }`). Definitions sharing a kind may leave the limit to one of them; two different limits are an error.
 */
export function declaredThrottleLimits<D extends { readonly throttle?: { kind: string; limit?: number } | undefined }>(
  declaring: Iterable<D>,
): ReadonlyMap<string, number> {
  const limits = new Map<string, number>();
  for (const { throttle } of declaring) {
    if (throttle?.limit === undefined) continue;
    if (!Number.isInteger(throttle.limit))
      throw new TypeError(`Throttle kind ${throttle.kind}: limit ${throttle.limit} is not an integer`);
    const known = limits.get(throttle.kind);
    if (known !== undefined && known !== throttle.limit)
      throw new ThrottleLimitConflictError(throttle.kind, [known, throttle.limit]);
    limits.set(throttle.kind, throttle.limit);
  }
  return limits;
}
