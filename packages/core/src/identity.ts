import type { ResourceSnapshot } from './resource.ts';

/** Who is asking: a verified token's subject and roles (or the anonymous caller a policy lets in). */
export interface Identity {
  readonly actor: string;
  readonly roles: readonly string[];
}

/**
 * An executor's authorization hook: may `identity` run `action` (the executor's name, e.g.
 * `instance.delete`) on `resource`? Pure, or async over data the command hands in — core does no I/O.
 * `false` is answered FORBIDDEN and the command's transaction rolls back.
 */
export type AuthorizeHook = (
  identity: Identity,
  action: string,
  resource: ResourceSnapshot,
) => boolean | Promise<boolean>;
