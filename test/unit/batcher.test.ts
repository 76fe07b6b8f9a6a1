import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/batcher.js';

/** A synchronous flush that records its batches and answers each item with `item * 10`. */
function syncFlush(fail: (batch: number[]) => Error | null = () => null) {
  const batches: number[][] = [];
  const flush = (items: number[]) => {
    batches.push([...items]);
    const error = fail(items);
    if (error) throw error;
    return items.map((item) => item * 10);
  };
  return { batches, flush };
}

/** An asynchronous flush that waits for `release()`, so tests control when it "returns from the server". */
function gatedFlush() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  let failNext: Error | null = null;
  const flush = async (items: number[]) => {
    batches.push([...items]);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (failNext) {
      const error = failNext;
      failNext = null;
      throw error;
    }
    return items.map((item) => item * 10);
  };
  return {
    batches,
    flush,
    release: () => gates.shift()?.(),
    failNextWith: (error: Error) => (failNext = error),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('batcher with a synchronous flush', () => {
  it('items added in the same turn share one flush, each caller gets its own result', async () => {
    const { batches, flush } = syncFlush();
    const batcher = createBatcher({ flush, maxBatch: 512, maxConcurrent: 1 });
    const results = await Promise.all([1, 2, 3, 4].map((item) => batcher.add(item)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  it('nothing resolves before the flush that holds the item has run', async () => {
    const events: string[] = [];
    const batcher = createBatcher({
      flush: (items: number[]) => {
        events.push(`flush ${items.join(',')}`);
        return items;
      },
      maxBatch: 512,
      maxConcurrent: 1,
    });
    const a = batcher.add(1).then(() => events.push('resolved 1'));
    const b = batcher.add(2).then(() => events.push('resolved 2'));
    await Promise.resolve();
    expect(events).toEqual([]);
    await Promise.all([a, b]);
    expect(events).toEqual(['flush 1,2', 'resolved 1', 'resolved 2']);
  });

  it('items added in later turns get later flushes', async () => {
    const { batches, flush } = syncFlush();
    const batcher = createBatcher({ flush, maxBatch: 512, maxConcurrent: 1 });
    await batcher.add(1);
    await Promise.all([batcher.add(2), batcher.add(3)]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('a failed flush rejects every caller in it with its error, and the next flush still runs', async () => {
    const boom = new Error('disk full');
    let failNext = true;
    const { batches, flush } = syncFlush(() => (failNext ? boom : null));
    const batcher = createBatcher({ flush, maxBatch: 512, maxConcurrent: 1 });
    const failed = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(failed).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ]);
    failNext = false;
    expect(await batcher.add(3)).toBe(30);
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('splits a large turn into batches of at most maxBatch, in arrival order; a failing batch rejects only its own callers', async () => {
    const boom = new Error('locked');
    const { batches, flush } = syncFlush((batch) => (batch.includes(4) ? boom : null));
    const batcher = createBatcher({ flush, maxBatch: 3, maxConcurrent: 1 });
    const settled = await Promise.allSettled([1, 2, 3, 4, 5, 6, 7].map((item) => batcher.add(item)));
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(settled.map((entry) => entry.status)).toEqual([
      'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled',
    ]);
  });

  it('drain resolves once everything added has been flushed, also when the flush failed', async () => {
    const { batches, flush } = syncFlush();
    const batcher = createBatcher({ flush, maxBatch: 512, maxConcurrent: 1 });
    await batcher.drain();
    void batcher.add(1);
    void batcher.add(2);
    await batcher.drain();
    expect(batches).toEqual([[1, 2]]);

    const failing = createBatcher<number, number>({
      flush: () => {
        throw new Error('nope');
      },
      maxBatch: 512,
      maxConcurrent: 1,
    });
    const rejected = failing.add(1).catch((error: Error) => error.message);
    await failing.drain();
    expect(await rejected).toBe('nope');
  });
});

describe('batcher with an asynchronous flush', () => {
  it('items of one turn share a flush; nothing resolves before that flush returns', async () => {
    const gate = gatedFlush();
    const batcher = createBatcher({ flush: gate.flush, maxBatch: 256, maxConcurrent: 2 });
    const resolved: number[] = [];
    const all = [1, 2, 3].map((item) => batcher.add(item).then((value) => resolved.push(value)));
    await tick();
    expect(gate.batches).toEqual([[1, 2, 3]]);
    await tick();
    expect(resolved).toEqual([]);
    gate.release();
    await Promise.all(all);
    expect(resolved).toEqual([10, 20, 30]);
  });

  it('items arriving while flushes run wait and go together in the next flush (at most maxConcurrent at once)', async () => {
    const gate = gatedFlush();
    const batcher = createBatcher({ flush: gate.flush, maxBatch: 256, maxConcurrent: 1 });
    const first = batcher.add(1);
    await tick();
    const later = [2, 3, 4].map((item) => batcher.add(item));
    await tick();
    expect(gate.batches).toEqual([[1]]);
    gate.release();
    await first;
    await tick();
    expect(gate.batches).toEqual([[1], [2, 3, 4]]);
    gate.release();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it('a failed flush rejects exactly its own callers; the next flush is unaffected', async () => {
    const gate = gatedFlush();
    const batcher = createBatcher({ flush: gate.flush, maxBatch: 256, maxConcurrent: 1 });
    const failing = [batcher.add(1), batcher.add(2)];
    await tick();
    const next = batcher.add(3);
    gate.failNextWith(new Error('disk full'));
    gate.release();
    await expect(failing[0]).rejects.toThrow('disk full');
    await expect(failing[1]).rejects.toThrow('disk full');
    await tick();
    gate.release();
    expect(await next).toBe(30);
  });

  it('splits batches at maxBatch and drain waits for everything added', async () => {
    const gate = gatedFlush();
    const batcher = createBatcher({ flush: gate.flush, maxBatch: 2, maxConcurrent: 2 });
    const results = [1, 2, 3, 4, 5].map((item) => batcher.add(item));
    let drained = false;
    const drain = batcher.drain().then(() => (drained = true));
    await tick();
    expect(gate.batches).toEqual([[1, 2], [3, 4]]);
    gate.release();
    gate.release();
    await Promise.all(results.slice(0, 4));
    await tick();
    expect(gate.batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(drained).toBe(false);
    gate.release();
    await drain;
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
  });
});

describe('batcher properties', () => {
  it('every caller gets its own result after its flush returned; batches keep arrival order within maxBatch and never exceed maxConcurrent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer(), { maxLength: 20 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (turns, maxBatch, maxConcurrent, failOdd) => {
          const flushed: number[][] = [];
          const returned = new Set<number>();
          let running = 0;
          let most = 0;
          let flushes = 0;
          const batcher = createBatcher<number, { value: number; flush: number }>({
            flush: async (items) => {
              const index = flushes++;
              running++;
              most = Math.max(most, running);
              flushed.push(items);
              await new Promise((resolve) => setImmediate(resolve));
              running--;
              returned.add(index);
              if (failOdd && index % 2 === 1) throw new Error(`flush ${index}`);
              return items.map((value) => ({ value, flush: index }));
            },
            maxBatch,
            maxConcurrent,
          });
          const calls: { item: number; settled: Promise<unknown> }[] = [];
          for (const turn of turns) {
            for (const item of turn) {
              const settled = batcher.add(item).then(
                (result) => {
                  expect(result.value).toBe(item);
                  expect(returned.has(result.flush)).toBe(true);
                },
                (error: Error) => {
                  const index = Number(error.message.split(' ')[1]);
                  expect(returned.has(index)).toBe(true);
                  expect(flushed[index]).toContain(item);
                },
              );
              calls.push({ item, settled });
            }
            await tick();
          }
          await batcher.drain();
          await Promise.all(calls.map((call) => call.settled));
          expect(flushed.flat()).toEqual(turns.flat());
          expect(flushed.every((batch) => batch.length >= 1 && batch.length <= maxBatch)).toBe(true);
          expect(most).toBeLessThanOrEqual(maxConcurrent);
        },
      ),
      { numRuns: 100 },
    );
  });
});
