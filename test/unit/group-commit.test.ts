import { describe, expect, it } from 'vitest';
import { createGroupCommit } from '../../src/store/sqlite/group-commit.js';

/** A commit function that records its batches and answers each item with `item * 10`. */
function recorder(fail: (batch: number[]) => Error | null = () => null) {
  const batches: number[][] = [];
  const commit = (items: number[]) => {
    batches.push([...items]);
    const error = fail(items);
    if (error) throw error;
    return items.map((item) => item * 10);
  };
  return { batches, commit };
}

describe('group commit', () => {
  it('items added in the same turn share one commit, each caller gets its own result', async () => {
    const { batches, commit } = recorder();
    const group = createGroupCommit(commit);
    const results = await Promise.all([1, 2, 3, 4].map((item) => group.add(item)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  it('nothing resolves before the commit that holds the item has run', async () => {
    const events: string[] = [];
    const group = createGroupCommit((items: number[]) => {
      events.push(`commit ${items.join(',')}`);
      return items;
    });
    const a = group.add(1).then(() => events.push('resolved 1'));
    const b = group.add(2).then(() => events.push('resolved 2'));
    await Promise.resolve();
    expect(events).toEqual([]);
    await Promise.all([a, b]);
    expect(events).toEqual(['commit 1,2', 'resolved 1', 'resolved 2']);
  });

  it('items added in later turns get later commits', async () => {
    const { batches, commit } = recorder();
    const group = createGroupCommit(commit);
    const first = group.add(1);
    await first;
    const second = [group.add(2), group.add(3)];
    await Promise.all(second);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('a failed commit rejects every caller in it with its error, and the next commit still runs', async () => {
    const boom = new Error('disk full');
    let failNext = true;
    const { batches, commit } = recorder(() => (failNext ? boom : null));
    const group = createGroupCommit(commit);
    const failed = await Promise.allSettled([group.add(1), group.add(2)]);
    expect(failed).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ]);
    failNext = false;
    expect(await group.add(3)).toBe(30);
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('splits a large turn into batches of at most maxBatch, in arrival order', async () => {
    const { batches, commit } = recorder();
    const group = createGroupCommit(commit, 3);
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((item) => group.add(item)));
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('a failing batch rejects only its own callers', async () => {
    const boom = new Error('locked');
    const { commit } = recorder((batch) => (batch.includes(4) ? boom : null));
    const group = createGroupCommit(commit, 3);
    const settled = await Promise.allSettled([1, 2, 3, 4, 5, 6, 7].map((item) => group.add(item)));
    expect(settled.map((entry) => entry.status)).toEqual([
      'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled',
    ]);
  });

  it('drain resolves once everything queued has been committed', async () => {
    const { batches, commit } = recorder();
    const group = createGroupCommit(commit);
    await group.drain();
    void group.add(1);
    void group.add(2);
    await group.drain();
    expect(batches).toEqual([[1, 2]]);
  });

  it('drain also resolves when the queued commit failed', async () => {
    const group = createGroupCommit<number, number>(() => {
      throw new Error('nope');
    });
    const rejected = group.add(1).catch((error: Error) => error.message);
    await group.drain();
    expect(await rejected).toBe('nope');
  });
});
