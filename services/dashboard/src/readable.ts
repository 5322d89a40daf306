import { ADMIN_ROLE, type Identity } from '@jetcel/identity';
import type { JetcelApi, ResourceEvent } from './jetcel.ts';

/** How long an answer of the executor is trusted: a resource handed to another user stops reaching the old one within it. */
export const READABLE_TTL_MS = 5_000;
/** Answers are kept this long for deletions: a deleted resource can no longer be asked about. */
const REMEMBER_MS = 10 * 60_000;
const MAX_ANSWERS = 50_000;

/**
 * Which resource events a user may receive: those of resources the executor lets them read
 * (query.resource.get as that user), asked once per user and resource and cached for a few
 * seconds. An admin receives everything. A deletion is sent to whoever could read the resource
 * when it was last asked about, or else to the actor who deleted it. When the executor does not
 * answer, the event is not sent (fail closed).
 */
export class ReadableResources {
  readonly #answers = new Map<string, { readable: boolean; at: number }>();
  readonly #asking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly api: Pick<JetcelApi, 'getResource'>,
    private readonly ttlMs = READABLE_TTL_MS,
  ) {}

  mayRead(user: Identity, event: ResourceEvent): Promise<boolean> {
    if (user.roles.includes(ADMIN_ROLE)) return Promise.resolve(true);
    const key = JSON.stringify([user.actor, event.resourceType, event.resourceId]);
    const known = this.#answers.get(key);
    if (event.to === null) return Promise.resolve(known?.readable ?? event.actor === user.actor);
    if (known && Date.now() - known.at < this.ttlMs) return Promise.resolve(known.readable);
    let asking = this.#asking.get(key);
    if (!asking) {
      asking = this.#ask(user, event, key).finally(() => this.#asking.delete(key));
      this.#asking.set(key, asking);
    }
    return asking;
  }

  async #ask(user: Identity, event: ResourceEvent, key: string): Promise<boolean> {
    const reply = await this.api.getResource(user, event.resourceType, event.resourceId).catch(() => null);
    if (reply === null || (!reply.ok && reply.error.code !== 'NOT_FOUND')) return false;
    this.#remember(key, reply.ok);
    return reply.ok;
  }

  #remember(key: string, readable: boolean): void {
    const now = Date.now();
    this.#answers.delete(key); // re-inserted last: the map stays in answer order, oldest first
    this.#answers.set(key, { readable, at: now });
    for (const [oldest, answer] of this.#answers) {
      if (this.#answers.size <= MAX_ANSWERS && now - answer.at < REMEMBER_MS) break;
      this.#answers.delete(oldest);
    }
  }
}
