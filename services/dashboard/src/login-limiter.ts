export interface LoginLimits {
  /** Failed logins of one user name within the window before it is locked. */
  readonly userFailures: number;
  /** Failed logins from one client address within the window before it is locked. */
  readonly ipFailures: number;
  readonly windowMs: number;
}

// Bounds memory under a spray of made-up names or addresses: expired entries go first, then the oldest.
const MAX_TRACKED = 10_000;

/** Failure times per key within a sliding window. */
class FailureLog {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  #recent(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }

  /** Milliseconds until `key` may try again, or 0 when it is not locked. */
  lockedForMs(key: string, now: number): number {
    const times = this.#recent(key, now);
    if (times.length < this.limit) return 0;
    // Unlocked once enough failures have left the window to drop below the limit.
    const unlockingFailure = times[times.length - this.limit] ?? now;
    return unlockingFailure + this.windowMs - now;
  }

  record(key: string, now: number): void {
    const times = this.#recent(key, now);
    this.#failures.delete(key);
    this.#failures.set(key, [...times, now].slice(-this.limit));
    if (this.#failures.size <= MAX_TRACKED) return;
    for (const other of [...this.#failures.keys()]) this.#recent(other, now);
    // Still full of live entries: the least recently failed key goes.
    const oldest = this.#failures.keys().next().value;
    if (this.#failures.size > MAX_TRACKED && oldest !== undefined) this.#failures.delete(oldest);
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }

  /** Takes back the newest failure of `key` (an attempt counted in advance that succeeded). */
  forgetOne(key: string): void {
    const times = this.#failures.get(key);
    if (times && times.length > 1) this.#failures.set(key, times.slice(0, -1));
    else this.#failures.delete(key);
  }
}

/**
 * Failed logins per user name (known or not, so a lock reveals nothing about who exists) and per
 * client address. An attempt counts as a failure from its start (parallel guesses cannot overtake
 * the count) and is taken back if it succeeds. A locked attempt is refused before its password is
 * checked, so not even the right password unlocks early; a success clears its user name's failures.
 */
export class LoginLimiter {
  readonly #users: FailureLog;
  readonly #ips: FailureLog;

  constructor(
    limits: LoginLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.#users = new FailureLog(limits.userFailures, limits.windowMs);
    this.#ips = new FailureLog(limits.ipFailures, limits.windowMs);
  }

  /**
   * Seconds until this user name from this address may try again (nothing counted), or 0: the
   * attempt may go ahead and counts as a failure until `succeeded`.
   */
  begin(username: string, ip: string): number {
    const now = this.now();
    const ms = Math.max(this.#users.lockedForMs(username, now), this.#ips.lockedForMs(ip, now));
    if (ms > 0) return Math.max(1, Math.ceil(ms / 1000));
    this.#users.record(username, now);
    this.#ips.record(ip, now);
    return 0;
  }

  succeeded(username: string, ip: string): void {
    this.#users.clear(username);
    this.#ips.forgetOne(ip);
  }
}
