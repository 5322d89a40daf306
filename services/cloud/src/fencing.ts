import { CloudError } from './errors.ts';
import type { FencingClaim } from './types.ts';

/** Highest fencing token seen per lease slot; older tokens are refused. */
export class FencingBook {
  readonly #highest = new Map<string, number>();

  /** `onRefused` counts each refusal (a holder that lost its slot without knowing yet). */
  constructor(private readonly onRefused: () => void = () => undefined) {}

  check(claim: FencingClaim | undefined): void {
    if (claim === undefined) return;
    const highest = this.#highest.get(claim.slot);
    if (highest !== undefined && claim.token < highest) {
      this.onRefused();
      throw new CloudError(
        409,
        'STALE_FENCING_TOKEN',
        `fencing token ${claim.token} is older than ${highest} for slot "${claim.slot}"`,
      );
    }
    if (highest === undefined || claim.token > highest) this.#highest.set(claim.slot, claim.token);
  }

  highest(slot: string): number | undefined {
    return this.#highest.get(slot);
  }

  clear(): void {
    this.#highest.clear();
  }
}
