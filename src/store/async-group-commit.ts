/**
 * Group commit for stores whose commit is asynchronous (a database server): while one
 * commit is running, the items that arrive queue up and go together in the next one, so
 * one round of commits acknowledges many callbacks under load and one item alone is not
 * delayed. No caller's promise resolves before the commit holding its item has returned;
 * when that commit fails, every caller in it is rejected with its error.
 */
export interface AsyncGroupCommit<I, O> {
  add(item: I): Promise<O>;
  /** Resolves when everything queued so far has been committed or rejected. */
  drain(): Promise<void>;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export function createAsyncGroupCommit<I, O>(
  commit: (items: I[]) => Promise<O[]>,
  { maxBatch = 256, maxConcurrent = 2 }: { maxBatch?: number; maxConcurrent?: number } = {},
): AsyncGroupCommit<I, O> {
  const queue: Pending<I, O>[] = [];
  let running = 0;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (running > 0 || queue.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const done of waiters) done();
  };

  const next = () => {
    while (running < maxConcurrent && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      running++;
      void run(batch);
    }
    settleIdle();
  };

  const run = async (batch: Pending<I, O>[]) => {
    try {
      const results = await commit(batch.map((pending) => pending.item));
      batch.forEach((pending, index) => pending.resolve(results[index]!));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      running--;
      next();
    }
  };

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Items added in the same turn of the event loop join the same batch.
        if (queue.length === 1) setImmediate(next);
      });
    },
    drain() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
