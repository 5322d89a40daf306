import { noopMetrics, type RuntimeMetrics, type StepOutcome } from '@jetcel/core';

/** Reports a task run's start; the returned function reports how it ended and how long it took. */
export function startTaskTimer(
  metrics: RuntimeMetrics | undefined,
  run: { task: string; queue: string; publishedAt: Date | undefined },
): (outcome: StepOutcome) => void {
  const sink = metrics ?? noopMetrics;
  const { task, queue } = run;
  const started = performance.now();
  const published = run.publishedAt?.getTime();
  sink.taskStarted({
    task,
    queue,
    lagSeconds: published === undefined ? null : Math.max(0, Date.now() - published) / 1000,
  });
  return (outcome) => sink.taskFinished({ task, queue, outcome, seconds: (performance.now() - started) / 1000 });
}
