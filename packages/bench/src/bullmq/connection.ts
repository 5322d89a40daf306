/** BullMQ uses the machine's Redis; every key of a run lives under its own prefix, removed at the end. */
export const REDIS = {
  host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.BENCH_REDIS_PORT ?? 6379),
};

export const BULL_QUEUES = { task: 'bench-task', flow: 'bench-flow', throttle: 'bench-throttle' } as const;
export type BullMode = keyof typeof BULL_QUEUES;

/** The last of a flow's four chained jobs (the parent, which runs when its child finished). */
export const FLOW_LAST = 's5';
