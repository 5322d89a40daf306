import type { Barrier, BarrierInput, BarrierOp, ReleasedBarriers } from './types.ts';

interface OpenBarrier {
  id: string;
  op: BarrierOp;
  settingsId: string | null;
  size: number;
  waiters: BarrierWaiter[];
}

/** An operation held at its completion point by a barrier; cancel it when the operation is abandoned. */
export interface BarrierWaiter {
  readonly barrier: OpenBarrier;
  readonly complete: () => void;
}

/** Runs a batch of completions in one synchronous loop (the context freezes its clock around it). */
export type BatchRunner = (completions: readonly (() => void)[]) => void;

function view(barrier: OpenBarrier): Barrier {
  const { id, op, settingsId, size } = barrier;
  return { id, op, settingsId, size, waiting: barrier.waiters.length };
}

/**
 * Barriers hold operations at their completion point until `size` of them are
 * waiting, then let them all complete in the same synchronous loop. The first
 * open barrier matching an operation takes it.
 */
export class BarrierBook {
  readonly #open: OpenBarrier[] = [];
  readonly #runBatch: BatchRunner;
  #nextId = 1;

  constructor(runBatch: BatchRunner) {
    this.#runBatch = runBatch;
  }

  add(input: BarrierInput): Barrier {
    const barrier: OpenBarrier = {
      id: `barrier-${this.#nextId++}`,
      op: input.op,
      settingsId: input.settingsId ?? null,
      size: input.size,
      waiters: [],
    };
    this.#open.push(barrier);
    return view(barrier);
  }

  list(): Barrier[] {
    return this.#open.map(view);
  }

  /** Open barriers. */
  get size(): number {
    return this.#open.length;
  }

  /**
   * An operation reached its completion point. Without a matching barrier it
   * completes right away. Otherwise it waits; the arrival that fills the
   * barrier consumes it and completes every waiter at once. Returns the waiter
   * while the operation is held, null once it has completed.
   */
  arrive(op: BarrierOp, settingsId: string, complete: () => void): BarrierWaiter | null {
    const barrier = this.#open.find(
      (candidate) => candidate.op === op && (candidate.settingsId === null || candidate.settingsId === settingsId),
    );
    if (barrier === undefined) {
      complete();
      return null;
    }
    const waiter: BarrierWaiter = { barrier, complete };
    barrier.waiters.push(waiter);
    if (barrier.waiters.length < barrier.size) return waiter;
    this.#open.splice(this.#open.indexOf(barrier), 1);
    this.#runBatch(barrier.waiters.map((held) => held.complete));
    return null;
  }

  /** Takes an abandoned operation (e.g. deleted while held) out of its barrier; it will not complete. */
  cancel(waiter: BarrierWaiter | null): void {
    if (waiter === null) return;
    const index = waiter.barrier.waiters.indexOf(waiter);
    if (index >= 0) waiter.barrier.waiters.splice(index, 1);
  }

  /** Removes every barrier and completes everything they held, all in one synchronous loop. */
  releaseAll(): ReleasedBarriers {
    const barriers = this.#open.splice(0);
    const completions = barriers.flatMap((barrier) => barrier.waiters.map((held) => held.complete));
    this.#runBatch(completions);
    return { cleared: barriers.length, released: completions.length };
  }

  /** Drops every barrier and what it holds, without completing anything (wipe / dispose). */
  clear(): void {
    for (const barrier of this.#open) barrier.waiters.length = 0;
    this.#open.length = 0;
  }
}
