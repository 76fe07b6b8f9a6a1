import { describe, expect, it } from 'vitest';
import { createAsyncGroupCommit } from '../../src/store/async-group-commit.js';

/** A commit that waits for `release()` so tests control when it "returns from the server". */
function gatedCommit() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  let failNext: Error | null = null;
  const commit = async (items: number[]) => {
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
    commit,
    release: () => gates.shift()?.(),
    failNextWith: (error: Error) => (failNext = error),
    pendingCommits: () => gates.length,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('async group commit', () => {
  it('items of one turn share a commit; nothing resolves before that commit returns', async () => {
    const gate = gatedCommit();
    const group = createAsyncGroupCommit(gate.commit);
    const resolved: number[] = [];
    const all = [1, 2, 3].map((item) => group.add(item).then((value) => resolved.push(value)));
    await tick();
    expect(gate.batches).toEqual([[1, 2, 3]]);
    await tick();
    expect(resolved).toEqual([]);
    gate.release();
    await Promise.all(all);
    expect(resolved).toEqual([10, 20, 30]);
  });

  it('items arriving while commits run wait and go together in the next commit (at most maxConcurrent at once)', async () => {
    const gate = gatedCommit();
    const group = createAsyncGroupCommit(gate.commit, { maxConcurrent: 1 });
    const first = group.add(1);
    await tick();
    const later = [2, 3, 4].map((item) => group.add(item));
    await tick();
    expect(gate.batches).toEqual([[1]]);
    gate.release();
    await first;
    await tick();
    expect(gate.batches).toEqual([[1], [2, 3, 4]]);
    gate.release();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it('a failed commit rejects exactly its own callers; the next commit is unaffected', async () => {
    const gate = gatedCommit();
    const group = createAsyncGroupCommit(gate.commit, { maxConcurrent: 1 });
    const failing = [group.add(1), group.add(2)];
    await tick();
    const next = group.add(3);
    gate.failNextWith(new Error('disk full'));
    gate.release();
    await expect(Promise.all(failing)).rejects.toThrow('disk full');
    await expect(failing[1]).rejects.toThrow('disk full');
    await tick();
    gate.release();
    expect(await next).toBe(30);
  });

  it('splits batches at maxBatch and drain waits for everything queued', async () => {
    const gate = gatedCommit();
    const group = createAsyncGroupCommit(gate.commit, { maxBatch: 2, maxConcurrent: 2 });
    const results = [1, 2, 3, 4, 5].map((item) => group.add(item));
    let drained = false;
    const drain = group.drain().then(() => (drained = true));
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
    await group.drain();
  });
});
