// A DBOS Transact worker process (the durable peer): `--mode executor|throttle`, driven over IPC.
import { DBOS } from '@dbos-inc/dbos-sdk';
import { nowMs, sleep } from '../clock.ts';
import { serveDriver } from '../ipc.ts';
import { Recorder } from '../recorder.ts';
import { DBOS_APP, DBOS_QUEUE, DBOS_QUEUE_POLL_MS, DBOS_STEPS, DBOS_WORKFLOWS, type DbosMode } from './names.ts';

const modeIndex = process.argv.indexOf('--mode');
const mode = process.argv[modeIndex + 1] as DbosMode;
if (mode !== 'executor' && mode !== 'throttle') throw new TypeError('--mode executor|throttle is required');
const systemDatabaseUrl = process.env.DBOS_SYSTEM_DATABASE_URL;
if (!systemDatabaseUrl) throw new TypeError('DBOS_SYSTEM_DATABASE_URL is required');
const limit = Number(process.env.THROTTLE_LIMIT ?? 5);
const recorder = new Recorder();

const noopStep = DBOS.registerStep(async (): Promise<void> => {}, { name: 'bench.noop' });
const fiveSteps = DBOS.registerWorkflow(
  async (): Promise<void> => {
    for (let i = 0; i < DBOS_STEPS; i++) await noopStep();
  },
  { name: DBOS_WORKFLOWS.fiveSteps },
);

const sleepStep = DBOS.registerStep(
  async (ms: number): Promise<void> => {
    const start = nowMs();
    await sleep(ms);
    const end = nowMs();
    recorder.add({ latencyMs: end - start, interval: [start, end] });
  },
  { name: 'bench.sleep' },
);
const throttled = DBOS.registerWorkflow(async (ms: number): Promise<void> => sleepStep(ms), {
  name: DBOS_WORKFLOWS.throttled,
});

DBOS.setConfig({
  name: DBOS_APP,
  systemDatabaseUrl,
  logLevel: 'warn',
  // Each process its own executor, so one worker's launch never recovers the other's workflows.
  executorID: `bench-${process.pid}`,
});
await DBOS.launch();
if (mode === 'throttle')
  await DBOS.registerQueue(DBOS_QUEUE.name, {
    partitionConcurrency: limit,
    minPollingIntervalMs: DBOS_QUEUE_POLL_MS,
    onConflict: 'always_update',
  });

serveDriver(
  recorder,
  {
    /** The request: starts the workflow here (its status row is durable when this returns). */
    start: async ({ id }: { id: string }) => {
      await DBOS.startWorkflow(fiveSteps, { workflowID: id })();
      return true;
    },
    /** Enqueues one throttled workflow on the partitioned queue; any worker may dequeue it. */
    enqueue: async ({ id, ms }: { id: string; ms: number }) => {
      await DBOS.startWorkflow(throttled, {
        workflowID: id,
        queueName: DBOS_QUEUE.name,
        enqueueOptions: { queuePartitionKey: DBOS_QUEUE.partition },
      })(ms);
      return true;
    },
  },
  async () => {
    await DBOS.shutdown({ workflowCompletionTimeoutMS: 2000 });
  },
);
