// Raw JetStream consumer (scenario 1's limit): pull-consume and ack with nats.js, nothing else.
import { serveDriver } from '../ipc.ts';
import { Recorder } from '../recorder.ts';
import { rawNats } from './connect.ts';
import { RAW_TASK } from './names.ts';

const recorder = new Recorder();
const { nc, js } = await rawNats(process.env.NATS_URL ?? '');
const consumer = await js.consumers.get(RAW_TASK.stream, RAW_TASK.durable);
const messages = await consumer.consume({ max_messages: 256 });
void (async () => {
  for await (const m of messages) {
    recorder.sent(m.json<{ t: number }>().t);
    m.ack();
  }
})();
serveDriver(recorder, {}, async () => {
  await messages.close();
  await nc.drain();
});
