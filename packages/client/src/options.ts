/** How a client reaches jetcel: the NATS servers, credentials and the identity it sends. */
export interface ClientOptions {
  /** NATS server URL(s). @defaultValue 'nats://127.0.0.1:4222' */
  servers?: string | string[];
  /** NATS user and password (deploy/nats/permissions.conf: `client`, `operator`, or an application's own user; docs/operating.md "Permissions"). */
  user?: string;
  pass?: string;
  /** Connection name shown by the server. @defaultValue 'jetcel-client' */
  name?: string;
  /** An identity token (HS256 JWT): sent as `Authorization: Bearer <token>` on every command and query. */
  token?: string;
  /** An `Actor` header for commands (when identities are not enforced). */
  actor?: string;
  /** Request timeout. @defaultValue 10000 */
  timeoutMs?: number;
}

/** Client options from the environment the services use: NATS_URL, NATS_USER, NATS_PASS, JETCEL_TOKEN. */
export function clientOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientOptions {
  return {
    ...(env.NATS_URL ? { servers: env.NATS_URL.split(',').map((url) => url.trim()) } : {}),
    ...(env.NATS_USER ? { user: env.NATS_USER } : {}),
    ...(env.NATS_PASS ? { pass: env.NATS_PASS } : {}),
    ...(env.JETCEL_TOKEN ? { token: env.JETCEL_TOKEN } : {}),
  };
}
