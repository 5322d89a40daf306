// A BullMQ worker process: `--mode task|flow|throttle`, `--prefix <redis key prefix>`, driven over IPC.
import { Worker, type Job } from 'bullmq';
import { nowMs, sleep } from '../clock.ts';
import { serveDriver } from '../ipc.ts';
import { Recorder } from '../recorder.ts';
import { BULL_QUEUES, FLOW_LAST, REDIS, type BullMode } from './connection.ts';

const arg = (name: string): string => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (!value) throw new TypeError(`--${name} is required`);
  return value;
};
const mode = arg('mode') as BullMode;
const prefix = arg('prefix');
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 50);
const recorder = new Recorder();

type Data = { t?: number; ms?: number };
const processors: Record<BullMode, (job: Job<Data>) => Promise<void>> = {
  task: async (job) => recorder.sent(job.data.t ?? nowMs()),
  flow: async () => {},
  throttle: async (job) => {
    const start = nowMs();
    await sleep(job.data.ms ?? 20);
    const end = nowMs();
    recorder.add({ latencyMs: end - start, interval: [start, end] });
  },
};

const worker = new Worker<Data>(BULL_QUEUES[mode], processors[mode], {
  connection: REDIS,
  prefix,
  concurrency,
  removeOnComplete: { count: 1000 },
});
if (mode === 'flow')
  worker.on('completed', (job) => {
    // A flow ends when its last job's completion is stored: from FlowProducer.add to that commit.
    if (job.name === FLOW_LAST) recorder.add({ latencyMs: (job.finishedOn ?? Date.now()) - job.timestamp });
  });
await worker.waitUntilReady();
serveDriver(recorder, {}, async () => {
  await worker.close();
});
