// The pull loop behind startConsumer: requests only as many messages as there are free slots,
// runs each one with heartbeats, settles it (in batches), and keeps going through disconnects and restarts.
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Delivery, Disposition } from './delivery.ts';
import { BusError } from './errors.ts';
import type { Heartbeats } from './heartbeats.ts';
import { InFlightMessage } from './in-flight.ts';

const THROWN_HANDLER_NAK_MS = 1_000;
/** Cap on concurrent pull requests per handle (the server's max_waiting defaults to 512 per consumer). */
const MAX_OPEN_PULLS = 8;
/** A new pull waits for concurrency / REFILL_FRACTION free slots while an open one still owes messages. */
const REFILL_FRACTION = 4;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5_000;
const FLUSH_TIMEOUT_MS = 2_000;

export interface ConsumerStats {
  delivered: number;
  /** Acks sent (unconfirmed: a lost one brings the message back after ack_wait). */
  acked: number;
  /** Handler naks, thrown handlers and shutdown hand-backs. */
  naked: number;
  termed: number;
  /** Pull requests sent (delivered / pulls is the batch a pull brings). */
  pulls: number;
}

export interface PullerSettings {
  concurrency: number;
  handler: (delivery: Delivery) => Promise<Disposition>;
  heartbeatMs: number;
  /** The owner of every in-flight message's heartbeat (one timer). */
  heartbeats: Heartbeats;
  expiresMs: number;
  onError: (err: unknown) => void;
}

/** One outstanding fetch: how many messages it asked for and how many arrived. */
interface PullRequest {
  requested: number;
  received: number;
  iter: ConsumerMessages | undefined;
  /** Closed by us (disconnect or stop): whatever it still yields is handed back. */
  closed: boolean;
}

export class SlotPuller {
  private readonly nc: NatsConnection;
  private readonly consumer: Consumer;
  private readonly settings: PullerSettings;
  private readonly inFlight = new Set<InFlightMessage>();
  private readonly pulls = new Set<PullRequest>();
  private readonly counters: ConsumerStats = { delivered: 0, acked: 0, naked: 0, termed: 0, pulls: 0 };
  private running = false;
  private connected = true;
  private failures = 0;
  private retryAt = 0;
  private wakeUp: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];
  private loopDone: Promise<void> = Promise.resolve();
  private statusIterator: AsyncIterable<unknown> | undefined;
  private stopping: Promise<void> | undefined;
  /** Handled messages whose settlement goes out with the next batch. */
  private unsettled: InFlightMessage[] = [];
  private settleScheduled = false;
  private readonly reportError = (err: unknown): void => this.report(err);
  private readonly settleBatch = (): void => this.settleAll();
  /** Free slots worth a new pull while another is still open. */
  private readonly refillBatch: number;

  constructor(nc: NatsConnection, consumer: Consumer, settings: PullerSettings) {
    this.nc = nc;
    this.consumer = consumer;
    this.settings = settings;
    this.refillBatch = Math.max(1, Math.floor(settings.concurrency / REFILL_FRACTION));
  }

  start(): void {
    this.running = true;
    this.watchConnection();
    this.loopDone = this.loop();
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }

  snapshot(): ConsumerStats {
    return { ...this.counters };
  }

  stop(deadlineMs: number): Promise<void> {
    this.stopping ??= this.shutdown(deadlineMs);
    return this.stopping;
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.running = false;
    this.closePulls();
    this.stopIterable(this.statusIterator);
    this.wake();
    await this.loopDone;
    await this.whenIdleOr(deadlineMs);
    this.settleAll();
    for (const entry of this.inFlight) {
      if (entry.handBack()) this.counters.naked++;
    }
    await this.flush();
  }

  /** Make sure the hand-backs (and last acks) left the client before stop() resolves. */
  private async flush(): Promise<void> {
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
    });
    await Promise.race([this.nc.flush().catch((err: unknown) => this.report(err)), timeout]);
    clearTimeout(timer);
  }

  // ---- the pull loop -------------------------------------------------------------------------

  private async loop(): Promise<void> {
    while (this.running) {
      const wait = this.retryAt - Date.now();
      if (wait > 0) {
        await this.sleep(wait);
        continue;
      }
      const owed = this.outstanding();
      const free = this.settings.concurrency - this.inFlight.size - owed;
      // While an open pull still owes messages, wait for a batch of free slots: a fetch per freed
      // slot costs a subscription and a round trip per message (measured: ~5.6 messages a fetch).
      const batchPending = owed > 0 && free < this.refillBatch;
      if (!this.connected || free <= 0 || batchPending || this.openPulls() >= MAX_OPEN_PULLS || this.nc.isClosed()) {
        await this.sleep(this.settings.expiresMs);
        continue;
      }
      this.startPull(free);
    }
  }

  private outstanding(): number {
    let total = 0;
    for (const pull of this.pulls) if (!pull.closed) total += Math.max(0, pull.requested - pull.received);
    return total;
  }

  private openPulls(): number {
    let open = 0;
    for (const pull of this.pulls) if (!pull.closed) open++;
    return open;
  }

  private startPull(count: number): void {
    const pull: PullRequest = { requested: count, received: 0, iter: undefined, closed: false };
    this.pulls.add(pull);
    this.counters.pulls++;
    void this.runPull(pull);
  }

  private async runPull(pull: PullRequest): Promise<void> {
    const started = Date.now();
    try {
      const iter = await this.consumer.fetch({ max_messages: pull.requested, expires: this.settings.expiresMs });
      pull.iter = iter;
      if (pull.closed) iter.stop();
      for await (const msg of iter) this.accept(pull, msg);
      if (pull.received === 0 && !pull.closed && Date.now() - started < 200) {
        // ended at once without messages or error: do not spin
        this.retryAt = Date.now() + RETRY_BASE_MS;
      } else {
        this.failures = 0;
      }
    } catch (err) {
      if (this.running && !pull.closed) {
        this.failures++;
        this.retryAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1));
        this.report(new BusError('Pull request failed; retrying', { cause: err }));
      }
    } finally {
      this.pulls.delete(pull);
      this.wake();
    }
  }

  private accept(pull: PullRequest, msg: JsMsg): void {
    pull.received++;
    const excess = pull.closed || pull.received > pull.requested || this.inFlight.size >= this.settings.concurrency;
    const entry = new InFlightMessage(msg, this.settings.heartbeats, this.settings.heartbeatMs, this.reportError);
    if (!this.running || excess) {
      // not ours to run (shutdown, or more than the free slots arrived, e.g. after a reconnect)
      entry.handBack();
      return;
    }
    this.counters.delivered++;
    this.inFlight.add(entry);
    void this.run(entry);
  }

  private async run(entry: InFlightMessage): Promise<void> {
    let disposition: Disposition;
    try {
      disposition = checkDisposition(await this.settings.handler(entry));
    } catch (err) {
      this.report(err);
      disposition = { kind: 'nak', delayMs: THROWN_HANDLER_NAK_MS };
    }
    entry.disposition = disposition;
    this.unsettled.push(entry);
    if (!this.settleScheduled) {
      this.settleScheduled = true;
      setImmediate(this.settleBatch);
    }
  }

  /**
   * Settles every message handled since the last batch in one go, once per turn of the event loop:
   * nats.js writes what is queued in one turn of its microtask flush, so the acks of a batch leave
   * in one socket write instead of one each (writes were a quarter of a busy worker's CPU). A
   * message's slot is free once its settlement is on the wire.
   */
  private settleAll(): void {
    this.settleScheduled = false;
    const batch = this.unsettled;
    if (batch.length === 0) return;
    this.unsettled = [];
    for (const entry of batch) {
      const settlement = entry.settle(entry.disposition ?? { kind: 'nak', delayMs: THROWN_HANDLER_NAK_MS });
      if (settlement === 'acked') this.counters.acked++;
      else if (settlement === 'naked') this.counters.naked++;
      else if (settlement === 'termed') this.counters.termed++;
      this.inFlight.delete(entry);
    }
    this.wake();
    if (this.inFlight.size === 0) this.notifyIdle();
  }

  // ---- connection state ----------------------------------------------------------------------

  private watchConnection(): void {
    const statuses = this.nc.status();
    this.statusIterator = statuses;
    void (async () => {
      try {
        for await (const status of statuses) {
          if (status.type === 'disconnect') {
            this.connected = false;
            // pull requests die with the connection; nats.js would re-issue them in full on
            // reconnect, which could exceed the free slots, so close them and pull afresh
            this.closePulls();
          } else if (status.type === 'reconnect') {
            this.connected = true;
            this.failures = 0;
            this.retryAt = 0;
            this.wake();
          }
        }
      } catch (err) {
        this.report(err);
      }
    })();
  }

  private closePulls(): void {
    for (const pull of this.pulls) {
      pull.closed = true;
      pull.iter?.stop();
    }
  }

  private stopIterable(iterable: AsyncIterable<unknown> | undefined): void {
    if (iterable !== undefined && 'stop' in iterable && typeof iterable.stop === 'function')
      (iterable as { stop(): void }).stop();
  }

  // ---- waiting -------------------------------------------------------------------------------

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private whenIdleOr(deadlineMs: number): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, deadlineMs);
      const waiters = this.idleWaiters;
      function finish(): void {
        clearTimeout(timer);
        const index = waiters.indexOf(finish);
        if (index >= 0) waiters.splice(index, 1);
        resolve();
      }
      waiters.push(finish);
    });
  }

  private report(err: unknown): void {
    try {
      this.settings.onError(err);
    } catch {
      // an error callback must never break the consumer
    }
  }
}

function checkDisposition(value: Disposition): Disposition {
  switch (value?.kind) {
    case 'ack':
    case 'term':
      return value;
    case 'nak':
      if (Number.isFinite(value.delayMs) && value.delayMs >= 0) return value;
      break;
  }
  throw new BusError(`Handler returned an invalid disposition: ${JSON.stringify(value)}`);
}
