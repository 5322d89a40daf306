import { CloudError, HangRequest } from './errors.ts';
import type { FaultOp, FaultResource, FaultRule, FaultRuleInput } from './types.ts';

/** The injected fault rules; the first matching rule fires. */
export class FaultBook {
  readonly #rules: FaultRule[] = [];
  #nextId = 1;

  add(input: FaultRuleInput): FaultRule {
    const rule: FaultRule = {
      id: `fault-${this.#nextId++}`,
      op: input.op,
      mode: input.mode,
      settingsId: input.settingsId ?? null,
      resource: input.resource ?? null,
      message: input.message ?? null,
      statusCode: input.statusCode ?? null,
      remaining: input.count ?? null,
      applied: input.applied ?? false,
      delayMs: input.delayMs ?? null,
      hits: 0,
    };
    this.#rules.push(rule);
    return { ...rule };
  }

  list(): FaultRule[] {
    return this.#rules.map((rule) => ({ ...rule }));
  }

  /** Removes every rule; returns how many there were. */
  clear(): number {
    const count = this.#rules.length;
    this.#rules.length = 0;
    return count;
  }

  /** Fires (and uses up one count of) the first rule matching the request, if any. */
  take(op: FaultOp, resource: FaultResource, settingsId: string | null): FaultRule | null {
    const index = this.#rules.findIndex(
      (rule) =>
        rule.op === op &&
        (rule.resource === null || rule.resource === resource) &&
        (rule.settingsId === null || rule.settingsId === settingsId),
    );
    const rule = this.#rules[index];
    if (rule === undefined) return null;
    rule.hits += 1;
    if (rule.remaining !== null) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.#rules.splice(index, 1);
    }
    return { ...rule };
  }
}

/** The error a fired rule makes a request fail with ('delay' rules fail nothing; see CloudContext.inject). */
export function faultFailure(rule: FaultRule): Error {
  switch (rule.mode) {
    case 'delay':
      return new CloudError(500, 'INTERNAL', `a ${rule.op} delay rule cannot fail a request`);
    case 'timeout':
      return new HangRequest(rule.message ?? `injected ${rule.op} timeout`);
    case 'http500':
      return new CloudError(rule.statusCode ?? 500, 'INTERNAL', rule.message ?? `injected ${rule.op} failure`);
    case 'error':
      return new CloudError(rule.statusCode ?? 422, 'BACKEND_ERROR', rule.message ?? `injected ${rule.op} error`);
  }
}

/** The `fault` text of a server or volume whose build a rule failed. */
export function buildFaultMessage(rule: FaultRule): string {
  return rule.message ?? 'injected build failure';
}
