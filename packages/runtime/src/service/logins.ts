import type { ServiceConfig } from './config.ts';

/** One NATS login: the user (undefined on a server without users) and its password. */
export interface NatsLogin {
  user: string | undefined;
  pass: string | undefined;
}

/** NATS_USER / NATS_RELAY_USER set in a way that would weaken the executor's two-user split. */
export class NatsLoginConfigError extends Error {
  readonly code = 'NATS_LOGIN_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The executor's NATS logins. It serves requests as NATS_USER, a user that may publish to inboxes
 * only, and does everything else (outbox relay, topology check, operator queries) as
 * NATS_RELAY_USER: a caller's reply subject can then never reach a stream, a lease or the
 * JetStream API, whatever the code does. On a server without users (neither is set) one
 * connection does both (`relay: null`). Setting only one of them, or the same user twice, is refused.
 */
export function executorLogins(config: ServiceConfig): { serving: NatsLogin; relay: NatsLogin | null } {
  const serving = { user: config.natsUser, pass: config.natsPass };
  const relay = config.natsRelayUser;
  if (serving.user === undefined && relay === undefined) {
    if (config.natsRelayPass !== undefined)
      throw new NatsLoginConfigError('NATS_RELAY_PASS is set without NATS_RELAY_USER');
    return { serving, relay: null };
  }
  if (serving.user === undefined || relay === undefined)
    throw new NatsLoginConfigError(
      'The executor needs NATS_USER and NATS_RELAY_USER together (deploy/nats/permissions.conf: `executor` serves ' +
        'requests and may publish to inboxes only, `executor-relay` publishes tasks and events); ' +
        `${serving.user === undefined ? 'NATS_USER' : 'NATS_RELAY_USER'} is not set`,
    );
  if (relay === serving.user)
    throw new NatsLoginConfigError(`NATS_RELAY_USER must be another user than NATS_USER (both are "${relay}")`);
  return { serving, relay: { user: relay, pass: config.natsRelayPass } };
}
