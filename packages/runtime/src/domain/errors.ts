/** What two domains may not both define: each is one name space of the deployment. */
export type DomainConflictKind =
  | 'domain'
  | 'task'
  | 'executor'
  | 'subject'
  | 'schedule'
  | 'table'
  | 'resource type'
  | 'service'
  | 'read policy'
  | 'dev process';

/**
 * Why the configured domains cannot start. `DOMAIN_CONFLICT`: two domains (or a domain and the
 * framework) define the same name; `DOMAIN_NOT_FOUND`: a configured domain does not resolve;
 * `DOMAIN_INVALID`: it resolves but exports no usable domain, or the configuration is malformed.
 */
export type DomainConfigErrorCode = 'DOMAIN_CONFLICT' | 'DOMAIN_NOT_FOUND' | 'DOMAIN_INVALID';

/** A start-up error of the domain configuration: the service refuses to start with it. */
export class DomainConfigError extends Error {
  readonly code: DomainConfigErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: DomainConfigErrorCode, message: string, details: Record<string, unknown>, cause?: unknown) {
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'DomainConfigError';
    this.code = code;
    this.details = details;
  }
}

/** Two owners of one name: `first` registered it, `second` asked for it again. */
export function domainConflict(kind: DomainConflictKind, name: string, first: string, second: string) {
  return new DomainConfigError(
    'DOMAIN_CONFLICT',
    `${kind} "${name}" is defined by both ${first} and ${second}: rename it in one of them`,
    { kind, name, domains: [first, second] },
  );
}
