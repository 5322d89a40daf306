export { readDashboardConfig, type DashboardConfig } from './config.ts';
export { DashboardConfigError, BadRequestError } from './errors.ts';
export { PASSWORD_COST, hashPassword, isOutdatedHash, verifyPassword } from './password.ts';
export { LoginLimiter, type LoginLimits } from './login-limiter.ts';
export { parseUsers, authenticate, type DashboardUser } from './users.ts';
export { SessionStore, type Session } from './sessions.ts';
export { BusJetcelApi, type JetcelApi, type ExecutionFilter } from './jetcel.ts';
export { startDashboard, SESSION_COOKIE, type RunningDashboard } from './server.ts';
export { jsonLogger } from './logger.ts';
