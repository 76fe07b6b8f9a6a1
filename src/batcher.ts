/**
 * The one batching primitive (group commit): items added in the same turn of the event loop
 * go to `flush` together, so one transaction (one fsync, one round trip) serves many callers
 * and an item alone is not delayed. While `maxConcurrent` flushes run, new items queue up and
 * go together in the next one; a turn larger than `maxBatch` is split, in arrival order.
 *
 * The contract every caller relies on:
 * - No caller's promise resolves before the flush holding its item has returned; it resolves
 *   with the result at its item's index.
 * - When that flush fails (throws or rejects), every caller in it is rejected with its error;
 *   other batches are unaffected. A caller that wants retries puts them inside `flush`.
 *
 * `flush` may be synchronous (SQLite on its own thread) or asynchronous (a database server).
 */
export interface Batcher<I, O> {
  add(item: I): Promise<O>;
  /** Resolves when everything added so far has been flushed (or its flush has failed). */
  drain(): Promise<void>;
}

export interface BatcherOptions<I, O> {
  flush: (items: I[]) => O[] | Promise<O[]>;
  /** Most items in one flush. */
  maxBatch: number;
  /** Most flushes running at once (1: one after the other). */
  maxConcurrent: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export function createBatcher<I, O>({ flush, maxBatch, maxConcurrent }: BatcherOptions<I, O>): Batcher<I, O> {
  const queue: Pending<I, O>[] = [];
  let running = 0;
  let scheduled = false;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (running > 0 || queue.length > 0 || scheduled) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const done of waiters) done();
  };

  const startBatches = () => {
    scheduled = false;
    while (running < maxConcurrent && queue.length > 0) {
      running++;
      void run(queue.splice(0, maxBatch));
    }
    settleIdle();
  };

  const run = async (batch: Pending<I, O>[]) => {
    try {
      const results = await flush(batch.map((pending) => pending.item));
      batch.forEach((pending, index) => pending.resolve(results[index]!));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      running--;
      startBatches();
    }
  };

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Items added in this turn of the event loop join the same batch; while flushes run,
        // the one that finishes starts the next batch.
        if (!scheduled && running < maxConcurrent) {
          scheduled = true;
          setImmediate(startBatches);
        }
      });
    },
    drain() {
      if (running === 0 && queue.length === 0 && !scheduled) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
