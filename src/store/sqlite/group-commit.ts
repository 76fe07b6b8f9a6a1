/**
 * Group commit: ingests that arrive in the same turn of the event loop share one
 * transaction, so one fsync acknowledges many callbacks. No caller's promise resolves
 * before the commit that holds its item has returned; when the commit fails, every caller
 * in it is rejected with that error.
 */
export interface GroupCommit<I, O> {
  add(item: I): Promise<O>;
  /** Resolves when everything queued so far has been committed or rejected. */
  drain(): Promise<void>;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit<I, O>(commit: (items: I[]) => O[], maxBatch = 512): GroupCommit<I, O> {
  let queue: Pending<I, O>[] = [];
  let scheduled = false;
  let idle: Promise<void> = Promise.resolve();
  let markIdle: (() => void) | null = null;

  const flush = () => {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
      if (batch === queue) queue = [];
      let results: O[];
      try {
        results = commit(batch.map((pending) => pending.item));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
        continue;
      }
      batch.forEach((pending, index) => pending.resolve(results[index]!));
    }
    markIdle?.();
    markIdle = null;
  };

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          idle = new Promise((done) => (markIdle = done));
          setImmediate(flush);
        }
      });
    },
    drain() {
      return scheduled ? idle : Promise.resolve();
    },
  };
}
