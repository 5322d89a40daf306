import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { DashboardUser } from './users.ts';

export interface Session {
  readonly id: string;
  readonly user: DashboardUser;
  /** Sent with every state-changing request (header X-CSRF-Token or form field _csrf). */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

const randomToken = (): string => randomBytes(32).toString('base64url');

/**
 * Server-side sessions: the cookie holds only a random id. A session ends after `idleMs` without a
 * request, `maxMs` after login, or at logout, whichever comes first.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #listeners = new Set<(id: string) => void>();

  constructor(private readonly options: { idleMs: number; maxMs: number; now?: () => number }) {}

  #now(): number {
    return this.options.now?.() ?? Date.now();
  }

  create(user: DashboardUser): Session {
    const now = this.#now();
    const session: Session = { id: randomToken(), user, csrfToken: randomToken(), createdAt: now, lastSeenAt: now };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (touching it), or null; an expired one is removed. */
  get(id: string | undefined): Session | null {
    if (id === undefined) return null;
    const session = this.#sessions.get(id);
    if (!session) return null;
    if (this.#expired(session)) {
      this.end(id);
      return null;
    }
    session.lastSeenAt = this.#now();
    return session;
  }

  #expired(session: Session): boolean {
    const now = this.#now();
    return now - session.lastSeenAt > this.options.idleMs || now - session.createdAt > this.options.maxMs;
  }

  /** Whether the session is still live, without counting as activity (for long-lived streams). */
  isLive(session: Session): boolean {
    return this.#sessions.get(session.id) === session && !this.#expired(session);
  }

  end(id: string): void {
    if (!this.#sessions.delete(id)) return;
    for (const listener of this.#listeners) listener(id);
  }

  /** Called with the id of every session that ends (logout or expiry). */
  onEnd(listener: (id: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Removes expired sessions; call it periodically. */
  sweep(): void {
    for (const session of [...this.#sessions.values()]) if (this.#expired(session)) this.end(session.id);
  }

  get size(): number {
    return this.#sessions.size;
  }
}

export function csrfTokenMatches(session: Session, given: string | undefined): boolean {
  if (given === undefined) return false;
  const expected = Buffer.from(session.csrfToken);
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
