/** The DBOS peer's names: its application, workflows and queue, shared by the driver and its worker process. */
export const DBOS_APP = 'jetcel-bench';

export const DBOS_WORKFLOWS = { fiveSteps: 'bench.five_steps', throttled: 'bench.throttled' } as const;

/** The throttled scenario's queue; every enqueue names the one partition the limit applies to. */
export const DBOS_QUEUE = { name: 'bench-throttle', partition: 'one-scope' } as const;

/** Steps per DBOS workflow: jetcel's four steps plus its success handler. */
export const DBOS_STEPS = 5;

/**
 * How often an idle DBOS worker polls its queue for work (DBOS's default is 1 s). The bench sets
 * 10 ms, so DBOS's throttled figure measures its dispatch, not a sleep between polls.
 */
export const DBOS_QUEUE_POLL_MS = 10;

export type DbosMode = 'executor' | 'throttle';
