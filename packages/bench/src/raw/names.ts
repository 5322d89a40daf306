/** The raw baselines' own stream, consumer and tables (beside jetcel's, on the same servers). */
export const RAW_TASK = { stream: 'RAW_TASK', subject: 'raw.task', durable: 'raw-task' } as const;
export const RAW_CHAIN = { stream: 'RAW_CHAIN', subject: 'raw.chain', durable: 'raw-chain' } as const;

/** Steps per raw execution: jetcel's four steps plus its success handler, each its own claim and commit. */
export const RAW_CHAIN_STEPS = 5;

export const RAW_CHAIN_SCHEMA = [
  `create table if not exists raw_exec (id uuid primary key, state text not null default 'SCHEDULED',
     created_at timestamptz not null default now(), finished_at timestamptz)`,
  `create table if not exists raw_step (id uuid primary key, exec_id uuid not null, n int not null,
     status text not null default 'queued', claim uuid, claimed_until timestamptz, result jsonb)`,
  `create table if not exists raw_outbox (id uuid primary key, subject text not null, payload text not null,
     created_at timestamptz not null default now(), published_at timestamptz)`,
];

export interface RawChainMessage {
  exec: string;
  step: string;
  n: number;
}
