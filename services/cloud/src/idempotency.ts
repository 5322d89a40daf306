import { CloudError } from './errors.ts';

interface Entry<T> {
  scope: string;
  fingerprint: string;
  value: T;
}

/**
 * Remembers what an Idempotency-Key produced. A key reused for another
 * operation (scope) or another request (fingerprint) is a conflict.
 */
export class IdempotencyBook<T> {
  readonly #entries = new Map<string, Entry<T>>();

  find(key: string, scope: string, fingerprint: string): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.scope !== scope || entry.fingerprint !== fingerprint) {
      throw new CloudError(
        409,
        'IDEMPOTENCY_CONFLICT',
        `Idempotency-Key "${key}" was already used for a different ${entry.scope} request`,
      );
    }
    return entry.value;
  }

  remember(key: string, scope: string, fingerprint: string, value: T): void {
    this.#entries.set(key, { scope, fingerprint, value });
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
