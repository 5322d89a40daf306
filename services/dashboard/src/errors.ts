/** The dashboard cannot start as configured (no users, no identity secret, a malformed user entry…). */
export class DashboardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DashboardConfigError';
  }
}

/** A request body that is too large or not what the route accepts. */
export class BadRequestError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'BadRequestError';
    this.status = status;
  }
}
