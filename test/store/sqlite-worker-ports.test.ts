import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHookrelayError } from '../../src/errors.js';
// The writer thread runs the build (`npm test` builds first).
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { storeOverPort } from '../../src/store/sqlite/worker-store.js';
import type { ClaimedDelivery } from '../../src/glossary.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../support/temp.js';

/**
 * The delivery thread's store: a second client of serve's one SQLite writer thread, over a
 * MessagePort from connectThread(). It is used here from the test's thread; in serve it is
 * another worker thread, which changes nothing for the writer.
 */
describe('sqlite writer thread: a second client over an attached port', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  const event = (key: string, body = `{"run_id":"${key}"}`) => ({
    source: 'cerebrium',
    dedupeKey: key,
    contentType: 'application/json',
    contentEncoding: null,
    body: Buffer.from(body),
    destinations: ['app'],
  });
  const delivered = (delivery: ClaimedDelivery) => ({
    attempt: {
      deliveryId: delivery.id,
      number: delivery.attempts + 1,
      startedAt: Date.now(),
      durationMs: 3,
      statusCode: 200,
      errorCode: null,
      error: null,
      responseSnippet: 'ok',
      outcome: 'delivered' as const,
    },
    decision: { kind: 'delivered' as const },
    countsAgainstBudget: true,
  });

  async function openOwner(): Promise<Store> {
    const dir = tempDir('hookrelay-store-ports-');
    cleanups.push(dir.cleanup);
    const owner = await openSqlite({ path: join(dir.path, 'hookrelay.db'), busyTimeoutMs: 1_000, lock: true, thread: 'worker' });
    cleanups.push(() => owner.close());
    return owner;
  }

  it('claims and completes what the owner committed, with the bodies intact, while the owner keeps ingesting', async () => {
    const owner = await openOwner();
    expect(owner.connectThread).toBeTypeOf('function');
    const client = storeOverPort(await owner.connectThread!());
    cleanups.push(() => client.close());

    const bodies = new Map<string, string>();
    for (let index = 0; index < 20; index++) {
      const body = `{"run_id":"e-${index}","text":"h\u00e9llo ${'x'.repeat(index * 50)}"}`;
      const { id } = await owner.ingest(event(`e-${index}`, body));
      bodies.set(id, body);
    }
    const now = Date.now();
    const [claimed] = await Promise.all([
      client.claimDue({ destination: 'app', limit: 50, now, leaseExpiresAt: now + 30_000, owner: 'delivery-thread' }),
      owner.ingest(event('beside')),
    ]);
    expect(claimed.length).toBeGreaterThanOrEqual(20);
    for (const delivery of claimed.filter((one) => bodies.has(one.eventId))) {
      expect(Buffer.isBuffer(delivery.body)).toBe(true);
      expect(delivery.body.toString()).toBe(bodies.get(delivery.eventId));
    }
    await client.completeAttempts(claimed.map(delivered), 'delivery-thread');
    // The owner's operator reads (its own reader thread) see the client's commits.
    const stats = await owner.stats(['app']);
    expect(stats.events).toBe(21);
    expect(stats.destinations.app).toMatchObject({ delivered: claimed.length, pending: 21 - claimed.length });
  });

  it("the client's close ends only the client; the owner's close ends the client's calls with a coded error", async () => {
    const owner = await openOwner();
    const first = storeOverPort(await owner.connectThread!());
    await first.ingest(event('through-the-client'));
    await first.close();
    const afterOwnClose = await first.recoverOrphanedLeases(Date.now()).catch((caught: unknown) => caught);
    expect(isHookrelayError(afterOwnClose, 'HOOKRELAY_SHUTTING_DOWN')).toBe(true);
    // The writer still serves its owner (and new clients).
    await owner.ingest(event('after-client-close'));
    const second = storeOverPort(await owner.connectThread!());
    expect(await second.nextDueAt([{ destination: 'app' }])).toEqual({ app: expect.any(Number) });

    await owner.close();
    const afterOwnerClose = await second.claimDue({ destination: 'app', limit: 1, now: Date.now(), leaseExpiresAt: Date.now() + 30_000, owner: 'x' }).catch(
      (caught: unknown) => caught,
    );
    expect(isHookrelayError(afterOwnerClose, 'HOOKRELAY_STORAGE_UNAVAILABLE')).toBe(true);
    await second.close();
    await expect(owner.connectThread!()).rejects.toMatchObject({ code: 'HOOKRELAY_SHUTTING_DOWN' });
  });
});
