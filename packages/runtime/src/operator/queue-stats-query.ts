import { z } from 'zod';
import { EVENTS_STREAM, laneStream, QUEUES, querySubject, TASK_LANES, type QueueStatsView } from '@jetcel/contracts';
import { streamStats, type Bus } from '@jetcel/bus';
import { defineQuery } from '../command/commands.ts';

const STREAMS: Array<{ stream: string; queue: string | null }> = [
  ...QUEUES.flatMap((queue) => TASK_LANES.map((lane) => ({ stream: laneStream(queue, lane), queue }))),
  { stream: EVENTS_STREAM, queue: null },
];

/** query.queue.stats: messages, pending, in flight, redelivered and waiting per stream (each queue's two lanes) and consumer. */
export function queueStatsQuery(bus: Bus) {
  return defineQuery({
    subject: querySubject('queue', 'stats'),
    input: z.strictObject({}),
    async handle(): Promise<QueueStatsView> {
      const stats = await streamStats(
        bus,
        STREAMS.map((entry) => entry.stream),
      );
      return { streams: stats.map((stream, index) => ({ ...stream, queue: STREAMS[index]?.queue ?? null })) };
    },
  });
}
