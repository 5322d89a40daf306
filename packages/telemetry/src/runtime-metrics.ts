import { Counter, Histogram, type Registry } from 'prom-client';
import type { RuntimeMetrics, StepOutcome } from '@jetcel/core';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** The one place where runtime events become Prometheus series. */
export function runtimeMetrics(registry: Registry): RuntimeMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
    new Histogram<L>({ name, help, labelNames, buckets, registers });
  const TASK = ['task', 'queue'] as const;
  const started = counter(
    'jetcel_tasks_started_total',
    'Task runs started (after claim and throttle admission).',
    TASK,
  );
  const byOutcome: Partial<Record<StepOutcome, Counter<'task' | 'queue'>>> = {
    succeeded: counter('jetcel_tasks_succeeded_total', 'Task runs that succeeded.', TASK),
    failed: counter('jetcel_tasks_failed_total', 'Task runs that failed for good (their failure handler runs).', TASK),
    retried: counter('jetcel_tasks_retried_total', 'Task runs that failed transiently and were queued again.', TASK),
    polled: counter('jetcel_tasks_polled_total', 'Task runs that asked to poll again later.', TASK),
  };
  const duration = histogram(
    'jetcel_step_duration_seconds',
    'From a task run start to its committed result, by outcome.',
    [...TASK, 'outcome'],
    DURATION_BUCKETS,
  );
  const lag = histogram(
    'jetcel_queue_lag_seconds',
    'From the publication of a task message to the start of its run.',
    ['queue'],
    LAG_BUCKETS,
  );
  const throttleWaits = counter(
    'jetcel_throttle_waits_total',
    'Times a throttled step found its scope full and went back to wait.',
    ['kind'],
  );
  const requests = counter(
    'jetcel_command_requests_total',
    'Commands and queries answered, by subject and reply code (OK or the error code).',
    ['subject', 'code'],
  );
  const requestDuration = histogram(
    'jetcel_command_duration_seconds',
    'Time to answer a command or query.',
    ['subject'],
    DURATION_BUCKETS,
  );
  const refused = counter(
    'jetcel_requests_refused_total',
    'Requests dropped before any work, by reason (no_reply: no reply subject; reply_subject: not an inbox).',
    ['reason'],
  );
  return {
    requestRefused({ reason }) {
      refused.inc({ reason });
    },
    commandHandled({ subject, code, seconds }) {
      requests.inc({ subject, code });
      requestDuration.observe({ subject }, seconds);
    },
    taskStarted({ task, queue, lagSeconds }) {
      started.inc({ task, queue });
      if (lagSeconds !== null) lag.observe({ queue }, lagSeconds);
    },
    taskFinished({ task, queue, outcome, seconds }) {
      byOutcome[outcome]?.inc({ task, queue });
      duration.observe({ task, queue, outcome }, seconds);
    },
    throttleWaited({ kind }) {
      throttleWaits.inc({ kind });
    },
  };
}
