import { isQueueName, type QueueName } from '@jetcel/contracts';
import { parseReplyPrefixes, type DefineTopologyOptions } from '@jetcel/bus';
import { DEFAULT_THROTTLE_CONFIG, type ThrottleConfig } from '../throttle/slots.ts';
import type { RetentionPolicy } from '@jetcel/db';
import { readAuthConfig, secretEnv, type AuthConfig } from '@jetcel/identity';
import { retentionConfigFromEnv } from '../retention/config.ts';
import { DEFAULT_CHAIN_LIMIT } from '../step/options.ts';
import { DEFAULT_LONG_PLAN_STEPS } from '../execution/lane.ts';
import { DEFAULT_RATE_LIMIT, type RateLimitConfig } from '../command/rate-limit.ts';

/** Requests handled at once by one executor process when JETCEL_MAX_REQUESTS_IN_FLIGHT is not set. */
export const DEFAULT_MAX_REQUESTS_IN_FLIGHT = 256;

/** Everything a jetcel service reads from its environment, read once at start-up. */
export interface ServiceConfig {
  natsUrl: string[];
  natsUser: string | undefined;
  natsPass: string | undefined;
  /** The executor's second NATS login (outbox relay, topology check, operator queries); see executorLogins. */
  natsRelayUser: string | undefined;
  natsRelayPass: string | undefined;
  /** JETCEL_REPLY_PREFIXES: the inboxes the executor answers (canonical, ending with "."). */
  replyPrefixes: string[];
  databaseUrl: string;
  /** Claim lifetime; heartbeats extend it. */
  claimTtlMs: number;
  /** Outbox sweep period. */
  sweepMs: number;
  /** Steps whose claim expired this long ago are re-queued. */
  claimGraceMs: number;
  topology: DefineTopologyOptions;
  throttle: ThrottleConfig;
  /** How long each kind of row is kept before the `jetcel.prune` task deletes it. */
  retention: RetentionPolicy;
  /** How long a stopping worker lets running tasks finish before handing them back. */
  shutdownDeadlineMs: number;
  /** A due step queued this long without a delivery is re-published (its message was lost). */
  staleQueuedMs: number;
  /** Past this many unpublished outbox rows, commands answer UNAVAILABLE (back-pressure). */
  backlogLimit: number;
  /** Takeovers tolerated before a step is dead-lettered. */
  crashBudget: number;
  /** How long an unknown task or message version waits for a newer worker. */
  unknownTaskGraceMs: number;
  /** Steps one worker slot runs in a row before the next goes through JetStream (1: every step is published). */
  stepChainLimit: number;
  /** A step with more plan nodes than this ahead of it (itself included) takes its queue's long lane. */
  longPlanSteps: number;
  /** Worker slots for the long lane, beside the worker's concurrency; unset: half of it (at least 1). */
  longLaneSlots: number | undefined;
  /** JETCEL_AUTH_SECRET(S), JETCEL_AUTH_MAX_TTL and JETCEL_AUTH_ANONYMOUS: how the executor identifies callers. */
  auth: AuthConfig;
  /** Commands and queries one executor process handles at once; beyond it UNAVAILABLE at once. */
  maxRequestsInFlight: number;
  /** Requests per actor (token bucket); beyond it UNAVAILABLE with `retryAfterMs`. */
  rateLimit: RateLimitConfig;
}

export function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/** A limit that cannot be 0: 0 would refuse everything rather than turn it off. */
function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = number(env, name, fallback);
  if (value < 1) throw new TypeError(`${name} must be at least 1, got "${env[name] ?? ''}"`);
  return value;
}

function perQueue(env: NodeJS.ProcessEnv, prefix: string): Partial<Record<QueueName, number>> {
  const result: Partial<Record<QueueName, number>> = {};
  for (const queue of ['regular', 'heavy', 'background'] as const) {
    const name = `${prefix}_${queue.toUpperCase()}`;
    if (env[name]) result[queue] = number(env, name, 0);
  }
  return result;
}

/**
 * Reads `NAME_FILE` secrets (e.g. NATS_PASS_FILE) and refuses `dev-only-` secrets outside
 * development mode (JETCEL_DEV=1) before anything else.
 */
export function serviceConfigFromEnv(input: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const env = secretEnv(input);
  return {
    natsUrl: (env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',').map((url) => url.trim()),
    natsUser: env.NATS_USER || undefined,
    natsPass: env.NATS_PASS || undefined,
    natsRelayUser: env.NATS_RELAY_USER || undefined,
    natsRelayPass: env.NATS_RELAY_PASS || undefined,
    replyPrefixes: parseReplyPrefixes(env.JETCEL_REPLY_PREFIXES),
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/jetcel',
    claimTtlMs: number(env, 'JETCEL_CLAIM_TTL_MS', 30_000),
    sweepMs: number(env, 'JETCEL_SWEEP_MS', 1000),
    claimGraceMs: number(env, 'JETCEL_CLAIM_GRACE_MS', 5000),
    shutdownDeadlineMs: number(env, 'WORKER_SHUTDOWN_DEADLINE_MS', 20_000),
    crashBudget: number(env, 'JETCEL_CRASH_BUDGET', 3),
    staleQueuedMs: number(env, 'JETCEL_STALE_QUEUED_MS', 60_000),
    backlogLimit: number(env, 'JETCEL_BACKLOG_LIMIT', 10_000),
    unknownTaskGraceMs: number(env, 'JETCEL_UNKNOWN_TASK_GRACE_MS', 10 * 60_000),
    stepChainLimit: number(env, 'JETCEL_STEP_CHAIN_LIMIT', DEFAULT_CHAIN_LIMIT),
    longPlanSteps: positive(env, 'JETCEL_LONG_PLAN_STEPS', DEFAULT_LONG_PLAN_STEPS),
    longLaneSlots: env.JETCEL_LONG_LANE_SLOTS ? positive(env, 'JETCEL_LONG_LANE_SLOTS', 1) : undefined,
    throttle: {
      defaultLimit: number(env, 'THROTTLE_DEFAULT_LIMIT', DEFAULT_THROTTLE_CONFIG.defaultLimit),
      waitLimitMs: number(env, 'THROTTLE_WAIT_LIMIT_MS', DEFAULT_THROTTLE_CONFIG.waitLimitMs),
      recheckMs: number(env, 'THROTTLE_RECHECK_MS', DEFAULT_THROTTLE_CONFIG.recheckMs),
      leaseTtlMs: number(env, 'JETCEL_LEASE_TTL_MS', DEFAULT_THROTTLE_CONFIG.leaseTtlMs),
    },
    retention: retentionConfigFromEnv(env),
    auth: readAuthConfig(env),
    maxRequestsInFlight: positive(env, 'JETCEL_MAX_REQUESTS_IN_FLIGHT', DEFAULT_MAX_REQUESTS_IN_FLIGHT),
    rateLimit: {
      perSecond: number(env, 'JETCEL_RATE_LIMIT_PER_SECOND', DEFAULT_RATE_LIMIT.perSecond),
      burst: positive(env, 'JETCEL_RATE_LIMIT_BURST', DEFAULT_RATE_LIMIT.burst),
      maxActors: positive(env, 'JETCEL_RATE_LIMIT_ACTORS', DEFAULT_RATE_LIMIT.maxActors),
    },
    topology: {
      ackWaitMs: perQueue(env, 'JETCEL_ACK_WAIT_MS'),
      maxBytes: perQueue(env, 'JETCEL_MAX_BYTES'),
      maxAckPending: perQueue(env, 'JETCEL_MAX_ACK_PENDING'),
      ...(env.JETCEL_LEASE_TTL_MS ? { leaseTtlMs: number(env, 'JETCEL_LEASE_TTL_MS', 60_000) } : {}),
      ...(env.JETCEL_REPLICAS ? { replicas: number(env, 'JETCEL_REPLICAS', 1) } : {}),
    },
  };
}

export function parseQueueArg(argv: string[]): QueueName {
  const index = argv.indexOf('--queue');
  const value = index >= 0 ? argv[index + 1] : argv.find((arg) => arg.startsWith('--queue='))?.slice('--queue='.length);
  if (!value || !isQueueName(value))
    throw new TypeError(`--queue must be one of regular, heavy, background (got ${value ?? 'nothing'})`);
  return value;
}
