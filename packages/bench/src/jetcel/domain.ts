import { builtinTasks, defineExecutor, defineTask, done, ExecutorRegistry, step, TaskRegistry } from '@jetcel/core';
import { defineResourceEntity, type MigrationSet } from '@jetcel/db';
import { nowMs, sleep } from '../clock.ts';
import type { Recorder } from '../recorder.ts';

/**
 * The bench's own domain: a resource, no-op and 20 ms tasks; five-step, throttled, one-step and
 * twenty-step executors.
 */
export interface BenchServices {
  recorder: Recorder;
}

export const BenchItem = defineResourceEntity({
  name: 'BenchItem',
  tableName: 'bench_item',
  resourceType: 'bench_item',
  properties: (p) => ({ name: p.string().length(63) }),
});

export const benchMigrations: MigrationSet = {
  name: 'bench',
  migrations: [
    {
      name: 'm001_bench_item',
      up: [
        `create table "bench_item" ("id" uuid not null, "state" "resource_state" not null default 'CREATION_SCHEDULED', "version" int not null default 1, "error_message" text not null default '', "error_traceback" text not null default '', "action" varchar(50) not null default '', "action_details" jsonb not null default '{}', "runtime_state" varchar(150) not null default '', "backend_id" varchar(255) null, "created_at" timestamptz not null default now(), "modified_at" timestamptz not null default now(), "name" varchar(63) not null, constraint "bench_item_pkey" primary key ("id"))`,
        `comment on table "bench_item" is 'jetcel-resource:bench_item'`,
      ],
      down: ['drop table if exists "bench_item"'],
    },
  ],
};

export const BENCH_TASKS = { noop: 'bench.noop', step: 'bench.step', sleep: 'bench.sleep' } as const;
export const THROTTLE_KIND = 'bench';
/** The throttled scenario's slots per scope, declared by its executor (so scheduling knows it too). */
export const THROTTLE_LIMIT = 5;

/** Scenario 1: a standalone background task that does nothing but note when it ran. */
const noopTask = defineTask<{ t: number }, BenchServices>({
  name: BENCH_TASKS.noop,
  queue: 'background',
  equality: 'none',
  sideEffects: false,
  async run(ctx, args) {
    ctx.services.recorder.sent(args.t);
  },
});

/** Scenario 2: one no-op step of a five-step execution. */
const stepTask = defineTask<unknown, BenchServices>({
  name: BENCH_TASKS.step,
  sideEffects: false,
  async run() {
    return done();
  },
});

/** Scenario 3: 20 ms of work inside the throttled span. */
const sleepTask = defineTask<{ ms: number }, BenchServices>({
  name: BENCH_TASKS.sleep,
  async run(ctx, args) {
    const start = nowMs();
    await sleep(args.ms);
    const end = nowMs();
    ctx.services.recorder.add({ latencyMs: end - start, interval: [start, end] });
    // The throttle probe's timeline (written only at LOG_LEVEL=info).
    ctx.log.info('bench task ran', { start, end, slot: ctx.fencingSlot, token: ctx.fencingToken });
    return done();
  },
});

export const fiveStepExecutor = defineExecutor<Record<string, never>>({
  name: 'bench.five_steps',
  kind: 'create',
  resourceType: 'bench_item',
  tasks: [stepTask],
  steps: () => [0, 1, 2, 3, 4].map((i) => step(stepTask, { i })),
});

export const throttledExecutor = defineExecutor<{ ms: number }>({
  name: 'bench.throttled',
  kind: 'create',
  resourceType: 'bench_item',
  throttle: { kind: THROTTLE_KIND, scope: () => 'one-scope', limit: THROTTLE_LIMIT },
  tasks: [sleepTask],
  steps: ({ params }) => [step(sleepTask, { ms: params.ms }, { throttled: true })],
});

/** The fairness scenario's stream: one no-op step (and its success handler). */
export const oneStepExecutor = defineExecutor<Record<string, never>>({
  name: 'bench.one_step',
  kind: 'create',
  resourceType: 'bench_item',
  tasks: [stepTask],
  steps: () => [step(stepTask, { i: 0 })],
});

/** Steps of the fairness scenario's long chains. */
export const LONG_CHAIN_STEPS = 20;

/** The fairness scenario's load: long chains of no-op steps on the same queue as the stream. */
export const twentyStepExecutor = defineExecutor<Record<string, never>>({
  name: 'bench.twenty_steps',
  kind: 'create',
  resourceType: 'bench_item',
  tasks: [stepTask],
  steps: () => Array.from({ length: LONG_CHAIN_STEPS }, (_, i) => step(stepTask, { i })),
});

export function createBenchDomain() {
  const tasks = new TaskRegistry<BenchServices>().register(...builtinTasks, noopTask, stepTask, sleepTask);
  const executorRegistry = new ExecutorRegistry().register(
    fiveStepExecutor,
    throttledExecutor,
    oneStepExecutor,
    twentyStepExecutor,
  );
  return { entities: [BenchItem], migrations: benchMigrations, tasks, executorRegistry };
}
