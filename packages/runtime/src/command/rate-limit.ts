import { RateLimitedError } from '@jetcel/core';
import type { Caller } from './identity.ts';

/** Requests per actor: a token bucket refilled at `perSecond`, holding at most `burst`. */
export interface RateLimitConfig {
  /** Sustained requests per second per actor; 0 turns the limit off. */
  perSecond: number;
  /** Requests an idle actor may send at once. */
  burst: number;
  /** Buckets kept; past it the least recently used is dropped (it refills: at worst a fresh burst). */
  maxActors: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { perSecond: 100, burst: 200, maxActors: 10_000 };

/**
 * Callers without a verified token share one bucket: their `Actor` header is a claim nobody
 * checked, so a bucket per claim would let a caller rotate names for a fresh burst each time.
 * The key cannot be a verified subject (those contain no control character).
 */
const UNVERIFIED = '\u0000unverified';

interface Bucket {
  tokens: number;
  at: number;
}

/** Per-actor token buckets in a bounded LRU map: memory stays bounded whatever the callers claim. */
export class ActorRateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly config: RateLimitConfig,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (config.perSecond > 0 && (config.burst < 1 || config.maxActors < 1))
      throw new TypeError('A rate limit needs a burst and a bucket count of at least 1');
  }

  /** Takes one request from the caller's bucket, or throws RateLimitedError (UNAVAILABLE, retryAfterMs). */
  admit(caller: Caller): void {
    if (this.config.perSecond <= 0) return;
    const key = caller.verified ? caller.actor : UNVERIFIED;
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.config.burst, at: now };
    // Re-inserted on every use: the Map's first key is the least recently used.
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.config.maxActors) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    bucket.tokens = Math.min(this.config.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.config.perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    throw new RateLimitedError(Math.ceil(((1 - bucket.tokens) / this.config.perSecond) * 1000));
  }

  /** Buckets currently kept (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }
}
