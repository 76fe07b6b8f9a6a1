import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHookrelayError } from '../../src/errors.js';
import type { AttemptCompletion, AttemptDecision, ClaimedDelivery, NewEvent } from '../../src/glossary.js';
import type { Store } from '../../src/store/store.js';
import { defineRunConformance } from './run-conformance.js';

/**
 * The store contract, written against the Store interface only. Each adapter's test file
 * calls `defineStoreConformance` with a harness; every case gets a fresh, empty database.
 */
export interface StoreHarness {
  name: string;
  /** SQLite (one process per database) releases every in-flight row at start-up; shared adapters only expired ones. */
  recoversLiveLeases: boolean;
  createDatabase(): Promise<TestDatabase>;
}

export interface TestDatabase {
  /** Opens a store on this database; call again for a second store on it, as a second process would. */
  open(): Promise<Store>;
  /** Another connection takes the write lock beyond the store's timeout; resolves with the function that lets go. */
  blockWrites(): Promise<() => Promise<void>>;
  cleanup(): Promise<void>;
}

const DESTINATIONS = ['app', 'audit'] as const;

function newEvent(dedupeKey: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    source: 'cerebrium',
    dedupeKey,
    contentType: 'application/json',
    contentEncoding: null,
    body: Buffer.from(JSON.stringify({ run_id: dedupeKey })),
    destinations: DESTINATIONS,
    ...overrides,
  };
}

function completion(delivery: ClaimedDelivery, decision: AttemptDecision, statusCode = decision.kind === 'delivered' ? 200 : 500): AttemptCompletion {
  return {
    attempt: {
      deliveryId: delivery.id,
      number: delivery.attempts + 1,
      startedAt: Date.now(),
      durationMs: 12.4,
      statusCode,
      errorCode: null,
      error: decision.kind === 'delivered' ? null : `HTTP ${statusCode}`,
      responseSnippet: decision.kind === 'delivered' ? 'ok' : 'error',
      outcome: decision.kind === 'delivered' ? 'delivered' : 'failed',
    },
    decision,
    countsAgainstBudget: true,
  };
}

export function defineStoreConformance(harness: StoreHarness): void {
  describe(`store conformance: ${harness.name}`, () => {
    let db: TestDatabase;
    let store: Store;
    const opened: Store[] = [];
    const open = async () => {
      const next = await db.open();
      opened.push(next);
      return next;
    };
    const claim = (destination: string, owner = 'owner-a', { now = Date.now(), limit = 10, leaseMs = 30_000 } = {}) =>
      store.claimDue({ destination, limit, now, leaseExpiresAt: now + leaseMs, owner });
    /** Ingests one event and drives its 'app' delivery to dead. */
    const deadDelivery = async (key: string, destination = 'app') => {
      const { id: eventId } = await store.ingest(newEvent(key, { destinations: [destination] }));
      const [delivery] = await store.claimDue({ destination, limit: 1, now: Date.now(), leaseExpiresAt: Date.now() + 30_000, owner: 'o' });
      expect(delivery?.eventId).toBe(eventId);
      await store.completeAttempts([completion(delivery!, { kind: 'dead' })], 'o');
      return delivery!.id;
    };

    beforeEach(async () => {
      db = await harness.createDatabase();
      store = await open();
    });
    afterEach(async () => {
      for (const each of opened.splice(0)) await each.close();
      await db.cleanup();
    });

    describe('ingest and dedupe', () => {
      it('stores the event byte-exact with one pending delivery per destination', async () => {
        const body = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
        const result = await store.ingest(newEvent('run-1', { body, contentType: 'application/octet-stream' }));
        expect(result.duplicate).toBe(false);
        const event = await store.getEvent(result.id);
        expect(event).toMatchObject({ id: result.id, source: 'cerebrium', dedupeKey: 'run-1', contentType: 'application/octet-stream' });
        expect(Buffer.compare(event!.body, body)).toBe(0);
        const deliveries = await store.listDeliveriesOfEvent(result.id);
        expect(deliveries.map((d) => [d.destination, d.status, d.attempts, d.budgetUsed])).toEqual([
          ['app', 'pending', 0, 0],
          ['audit', 'pending', 0, 0],
        ]);
        expect(deliveries[0]!.dedupeKey).toBe('run-1');
        expect(deliveries[0]!.leaseExpiresAt).toBeNull();
      });

      it('keeps the received Content-Encoding (or null) on the event and hands it to every claim', async () => {
        const gzipped = await store.ingest(newEvent('run-gz', { contentEncoding: 'gzip', body: Buffer.from([0x1f, 0x8b, 8, 0]) }));
        const plain = await store.ingest(newEvent('run-plain'));
        expect((await store.getEvent(gzipped.id))!.contentEncoding).toBe('gzip');
        expect((await store.getEvent(plain.id))!.contentEncoding).toBeNull();
        const now = Date.now();
        const claimed = await store.claimDue({ destination: 'app', limit: 10, now, leaseExpiresAt: now + 30_000, owner: 'test' });
        expect(Object.fromEntries(claimed.map((delivery) => [delivery.eventId, delivery.contentEncoding]))).toEqual({ [gzipped.id]: 'gzip', [plain.id]: null });
      });

      it('keeps the callback\'s X-Request-Id (or null) and hands it to every claim', async () => {
        const withId = await store.ingest(newEvent('run-req', { requestId: 'req-42' }));
        const without = await store.ingest(newEvent('run-noreq'));
        const now = Date.now();
        const claimed = await store.claimDue({ destination: 'audit', limit: 10, now, leaseExpiresAt: now + 30_000, owner: 'test' });
        expect(Object.fromEntries(claimed.map((delivery) => [delivery.eventId, delivery.requestId]))).toEqual({ [withId.id]: 'req-42', [without.id]: null });
      });

      it('a duplicate returns the first id and writes nothing', async () => {
        const first = await store.ingest(newEvent('run-dup'));
        const second = await store.ingest(newEvent('run-dup', { body: Buffer.from('different bytes') }));
        expect(second).toEqual({ id: first.id, duplicate: true });
        expect((await store.stats([])).events).toBe(1);
        expect((await store.stats([])).deliveries.pending).toBe(2);
        expect((await store.getEvent(first.id))!.body.toString()).toContain('run-dup');
      });

      it('the same key from another source is a different event', async () => {
        const a = await store.ingest(newEvent('shared-key'));
        const b = await store.ingest(newEvent('shared-key', { source: 'github' }));
        expect(b.duplicate).toBe(false);
        expect(b.id).not.toBe(a.id);
      });

      it('concurrent duplicates through two stores store the event once', async () => {
        const other = await open();
        const results = await Promise.all(
          Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? store : other).ingest(newEvent('run-race'))),
        );
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        expect(new Set(results.map((r) => r.id)).size).toBe(1);
        const stats = await other.stats([]);
        expect(stats.events).toBe(1);
        expect(stats.deliveries.pending).toBe(2);
      });

      it('concurrent ingests share commits and each caller gets its own committed result', async () => {
        const keys = Array.from({ length: 100 }, (_, i) => `run-${i}`);
        const results = await Promise.all(keys.map((key) => store.ingest(newEvent(key, { destinations: ['app'] }))));
        expect(results.every((r) => !r.duplicate)).toBe(true);
        expect(new Set(results.map((r) => r.id)).size).toBe(100);
        // Committed: visible to another store (another connection / process).
        const other = await open();
        for (const [index, result] of results.entries()) {
          expect((await other.getEvent(result.id))?.dedupeKey).toBe(keys[index]);
        }
        expect((await other.stats(['app'])).destinations.app!.pending).toBe(100);
      });

      it('a batch holding the same key twice stores it once', async () => {
        const [a, b, c] = await Promise.all([store.ingest(newEvent('twice')), store.ingest(newEvent('twice')), store.ingest(newEvent('once'))]);
        expect([a!.duplicate, b!.duplicate, c!.duplicate].filter(Boolean)).toHaveLength(1);
        expect(a!.id).toBe(b!.id);
        expect((await store.stats([])).events).toBe(2);
      });

      it('an event with no destinations is stored without deliveries', async () => {
        const result = await store.ingest(newEvent('lonely', { destinations: [] }));
        expect(await store.listDeliveriesOfEvent(result.id)).toEqual([]);
        expect(await store.isWritable()).toBe(true);
      });
    });

    describe('claims and leases', () => {
      it('claims due deliveries of one destination, oldest first, up to the limit, with the event', async () => {
        const ids: string[] = [];
        for (const key of ['c1', 'c2', 'c3']) ids.push((await store.ingest(newEvent(key))).id);
        const claimed = await claim('app', 'owner-a', { limit: 2 });
        expect(claimed.map((d) => d.eventId)).toEqual(ids.slice(0, 2));
        expect(claimed[0]).toMatchObject({ destination: 'app', source: 'cerebrium', contentType: 'application/json', attempts: 0, budgetUsed: 0 });
        expect(claimed[0]!.body.toString()).toBe(JSON.stringify({ run_id: 'c1' }));
        const row = await store.getDelivery(claimed[0]!.id);
        expect(row?.status).toBe('in_flight');
        expect(row?.leaseExpiresAt).toBeGreaterThan(Date.now());
        expect((await claim('app')).map((d) => d.eventId)).toEqual([ids[2]]);
        expect(await claim('app')).toEqual([]);
        expect(await claim('audit', 'owner-a', { limit: 5 })).toHaveLength(3);
      });

      it('does not claim deliveries that are not due yet', async () => {
        await store.ingest(newEvent('later'));
        expect(await claim('app', 'a', { now: Date.now() - 60_000 })).toEqual([]);
      });

      it('two stores claiming at once never get the same delivery', async () => {
        const other = await open();
        await Promise.all(Array.from({ length: 40 }, (_, i) => store.ingest(newEvent(`k${i}`, { destinations: ['app'] }))));
        const rounds = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? other : store).claimDue({ destination: 'app', limit: 7, now: Date.now(), leaseExpiresAt: Date.now() + 30_000, owner: `o${i}` }),
          ),
        );
        const ids = rounds.flat().map((d) => d.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length).toBe(40);
      });

      const sized = async (sizes: readonly number[]) => {
        const ids: string[] = [];
        for (const [index, size] of sizes.entries()) {
          ids.push((await store.ingest(newEvent(`sized-${index}`, { destinations: ['app'], body: Buffer.alloc(size, 0x61 + index) }))).id);
        }
        return ids;
      };
      const claimBytes = (maxBodyBytes: number, oversizedFirst = false) =>
        store.claimDue({ destination: 'app', limit: 10, now: Date.now(), leaseExpiresAt: Date.now() + 30_000, owner: 'o', maxBodyBytes, oversizedFirst });

      it('a byte budget claims the due-order prefix whose bodies fit; the first row that does not fit ends the claim', async () => {
        const ids = await sized([100, 200, 100, 50]);
        const first = await claimBytes(350);
        expect(first.map((d) => [d.eventId, d.body.length])).toEqual([[ids[0], 100], [ids[1], 200]]);
        expect(first[1]!.body.equals(Buffer.alloc(200, 0x62))).toBe(true);
        // The 50-byte body would fit, but it is due after the 100-byte one that does not: no skipping ahead.
        expect(await claimBytes(99)).toEqual([]);
        expect((await store.getDelivery((await store.listDeliveriesOfEvent(ids[3]!))[0]!.id))?.status).toBe('pending');
        // The budget is inclusive: 100 + 50 = 150 fits in 150.
        expect((await claimBytes(150)).map((d) => d.eventId)).toEqual([ids[2], ids[3]]);
      });

      it('oversizedFirst takes a body larger than the whole budget, alone; without it nothing is claimed', async () => {
        const ids = await sized([1_000, 10, 10]);
        expect(await claimBytes(500)).toEqual([]);
        expect((await claimBytes(500, true)).map((d) => [d.eventId, d.body.length])).toEqual([[ids[0], 1_000]]);
        expect((await claimBytes(15, true)).map((d) => d.eventId)).toEqual([ids[1]]);
        expect((await claimBytes(0, true)).map((d) => d.eventId)).toEqual([ids[2]]);
      });

      it('re-claims an in-flight delivery whose lease expired, never one whose lease runs', async () => {
        await store.ingest(newEvent('lease', { destinations: ['app'] }));
        const now = Date.now();
        const [first] = await claim('app', 'dead-process', { now, leaseMs: 1_000 });
        expect(await claim('app', 'other', { now: now + 500 })).toEqual([]);
        const [again] = await claim('app', 'other', { now: now + 1_001 });
        expect(again?.id).toBe(first!.id);
        expect((await store.getDelivery(first!.id))?.leaseExpiresAt).toBe(now + 1_001 + 30_000);
      });

      it('releaseLostClaims hands back only the owner\'s unkept in-flight rows of one destination, attempt count unchanged', async () => {
        for (const key of ['l1', 'l2', 'l3', 'l4']) await store.ingest(newEvent(key));
        const mine = await claim('app', 'me', { limit: 3 });
        const theirs = await claim('app', 'them', { limit: 1 });
        const otherDestination = await claim('audit', 'me', { limit: 4 });
        expect([mine.length, theirs.length, otherDestination.length]).toEqual([3, 1, 4]);
        const now = Date.now();
        expect(await store.releaseLostClaims('app', 'me', [mine[0]!.id], now)).toBe(2);
        for (const lost of mine.slice(1)) {
          expect(await store.getDelivery(lost.id)).toMatchObject({ status: 'pending', attempts: 0, leaseExpiresAt: null });
        }
        expect((await store.getDelivery(mine[0]!.id))?.status).toBe('in_flight');
        expect((await store.getDelivery(theirs[0]!.id))?.status).toBe('in_flight');
        for (const row of otherDestination) expect((await store.getDelivery(row.id))?.status).toBe('in_flight');
        // Due at once, and claimed as a first claim (not a lease take-over): no attempt was sent.
        expect((await claim('app', 'me', { now: now + 1 })).map((d) => [d.id, d.attempts])).toEqual(mine.slice(1).map((d) => [d.id, 0]));
        expect(await store.releaseLostClaims('app', 'me', [], now)).toBe(3);
      });
    });

    describe('fifo claims', () => {
      const fifo = (owner = 'owner-a', now = Date.now()) =>
        store.claimDue({ destination: 'app', limit: 10, now, leaseExpiresAt: now + 30_000, owner, fifo: true });

      it('only the head, in commit order; nothing while it is in flight or waits for a retry; the next once it is done', async () => {
        const ids: string[] = [];
        for (const key of ['f1', 'f2', 'f3']) ids.push((await store.ingest(newEvent(key, { destinations: ['app'] }))).id);
        const [head] = await fifo();
        expect(head?.eventId).toBe(ids[0]);
        expect(await fifo('owner-b')).toEqual([]);
        const retryAt = Date.now() + 60_000;
        await store.completeAttempts([completion(head!, { kind: 'retry', nextAttemptAt: retryAt })], 'owner-a');
        expect(await fifo()).toEqual([]);
        const [again] = await fifo('owner-a', retryAt);
        expect(again).toMatchObject({ id: head!.id, attempts: 1 });
        await store.completeAttempts([{ ...completion(again!, { kind: 'delivered' }), attempt: { ...completion(again!, { kind: 'delivered' }).attempt, number: 2 } }], 'owner-a');
        const [second] = await fifo();
        expect(second?.eventId).toBe(ids[1]);
      });

      it('a head whose lease expired is taken over; a dead head lets the next through; a replay joins the back', async () => {
        const ids: string[] = [];
        for (const key of ['g1', 'g2']) ids.push((await store.ingest(newEvent(key, { destinations: ['app'] }))).id);
        const now = Date.now();
        const [first] = await store.claimDue({ destination: 'app', limit: 1, now, leaseExpiresAt: now + 10, owner: 'gone', fifo: true });
        const [takenOver] = await fifo('owner-a', now + 20);
        expect(takenOver).toMatchObject({ id: first!.id, attempts: 1 });
        await store.completeAttempts([{ ...completion(takenOver!, { kind: 'dead' }), attempt: { ...completion(takenOver!, { kind: 'dead' }).attempt, number: 2 } }], 'owner-a');
        expect(await store.replayDead({ ids: [first!.id] }, Date.now() + 1, false)).toEqual({ matched: 1, replayed: 1 });
        const [next] = await fifo('owner-a', Date.now() + 5);
        expect(next?.eventId).toBe(ids[1]);
        await store.completeAttempts([completion(next!, { kind: 'delivered' })], 'owner-a');
        const [replayed] = await fifo('owner-a', Date.now() + 5);
        expect(replayed?.id).toBe(first!.id);
      });
    });

    describe('completing attempts', () => {
      it('delivered, retry and dead transitions with the attempt log', async () => {
        await store.ingest(newEvent('t1'));
        await store.ingest(newEvent('t2'));
        await store.ingest(newEvent('t3'));
        const [a, b, c] = await claim('app');
        const retryAt = Date.now() + 60_000;
        await store.completeAttempts(
          [completion(a!, { kind: 'delivered' }), completion(b!, { kind: 'retry', nextAttemptAt: retryAt }, 503), completion(c!, { kind: 'dead' }, 400)],
          'owner-a',
        );
        const delivered = await store.getDelivery(a!.id);
        expect(delivered).toMatchObject({ status: 'delivered', attempts: 1, budgetUsed: 1, lastStatus: 200, lastError: null, leaseExpiresAt: null });
        expect(delivered!.deliveredAt).toBeGreaterThan(0);
        const retrying = await store.getDelivery(b!.id);
        expect(retrying).toMatchObject({ status: 'pending', attempts: 1, budgetUsed: 1, lastStatus: 503, lastError: 'HTTP 503', nextAttemptAt: retryAt });
        const dead = await store.getDelivery(c!.id);
        expect(dead).toMatchObject({ status: 'dead', attempts: 1, lastStatus: 400 });
        expect(dead!.deadAt).toBeGreaterThan(0);
        const attempts = await store.listAttempts(b!.id);
        expect(attempts).toEqual([
          expect.objectContaining({ deliveryId: b!.id, number: 1, statusCode: 503, outcome: 'failed', durationMs: 12, responseSnippet: 'error' }),
        ]);
        // The retry is not due yet; once due it is claimed with its counts.
        expect(await claim('app')).toEqual([]);
        const [retry] = await claim('app', 'owner-a', { now: retryAt });
        expect(retry).toMatchObject({ id: b!.id, attempts: 1, budgetUsed: 1 });
      });

      it('a completion whose lease was lost logs the attempt but keeps the new owner’s state', async () => {
        await store.ingest(newEvent('lost', { destinations: ['app'] }));
        const now = Date.now();
        const [stale] = await claim('app', 'slow-process', { now, leaseMs: 10 });
        const [current] = await claim('app', 'new-owner', { now: now + 20 });
        expect(current!.id).toBe(stale!.id);
        await store.completeAttempts([completion(stale!, { kind: 'dead' })], 'slow-process');
        expect((await store.getDelivery(stale!.id))?.status).toBe('in_flight');
        expect(await store.listAttempts(stale!.id)).toHaveLength(1);
        await store.completeAttempts([{ ...completion(current!, { kind: 'delivered' }), attempt: { ...completion(current!, { kind: 'delivered' }).attempt, number: 2 } }], 'new-owner');
        expect(await store.getDelivery(current!.id)).toMatchObject({ status: 'delivered', attempts: 2 });
        expect((await store.listAttempts(current!.id)).map((a) => a.number)).toEqual([1, 2]);
      });

      it('in one batch, a lost lease does not stop the other completions', async () => {
        await store.ingest(newEvent('mixed-1', { destinations: ['app'] }));
        await store.ingest(newEvent('mixed-2', { destinations: ['app'] }));
        const now = Date.now();
        const [lost] = await claim('app', 'me', { now, limit: 1, leaseMs: 10 });
        const [kept] = await claim('app', 'me', { now, limit: 1, leaseMs: 60_000 });
        await claim('app', 'thief', { now: now + 20, limit: 1 });
        await store.completeAttempts([completion(lost!, { kind: 'delivered' }), completion(kept!, { kind: 'delivered' })], 'me');
        expect((await store.getDelivery(lost!.id))?.status).toBe('in_flight');
        expect((await store.getDelivery(kept!.id))?.status).toBe('delivered');
        expect(await store.listAttempts(lost!.id)).toHaveLength(1);
        expect(await store.listAttempts(kept!.id)).toHaveLength(1);
      });

      it('recording the same attempt twice keeps one log row', async () => {
        await store.ingest(newEvent('again', { destinations: ['app'] }));
        const [d] = await claim('app');
        const done = completion(d!, { kind: 'delivered' });
        await store.completeAttempts([done], 'owner-a');
        await store.completeAttempts([done], 'owner-a');
        expect(await store.listAttempts(d!.id)).toHaveLength(1);
      });

      it('a dead completion naming a fallback creates one pending delivery of the event there, in its transaction', async () => {
        const { id: eventId } = await store.ingest(newEvent('falls', { destinations: ['app'] }));
        const [d] = await claim('app');
        const created = await store.completeAttempts([{ ...completion(d!, { kind: 'dead' }), fallback: 'audit' }], 'owner-a');
        expect(created).toEqual([{ deliveryId: expect.any(String), eventId, from: 'app', to: 'audit' }]);
        expect(await store.getDelivery(d!.id)).toMatchObject({ status: 'dead', fallbackFor: null });
        expect(await store.getDelivery(created[0]!.deliveryId)).toMatchObject({ eventId, destination: 'audit', status: 'pending', fallbackFor: 'app', attempts: 0 });
        const [fallback] = await claim('audit');
        expect(fallback).toMatchObject({ id: created[0]!.deliveryId, eventId, fallbackFor: 'app' });
        // Recording the same completion again (a retried commit) creates nothing more.
        expect(await store.completeAttempts([{ ...completion(d!, { kind: 'dead' }), fallback: 'audit' }], 'owner-a')).toEqual([]);
        expect((await store.listDeliveriesOfEvent(eventId)).map((x) => x.destination)).toEqual(['app', 'audit']);
      });

      it('no fallback delivery for a retry, a lost lease, or an event that already has a delivery there', async () => {
        await store.ingest(newEvent('fb-retry', { destinations: ['app'] }));
        await store.ingest(newEvent('fb-both'));
        const now = Date.now();
        const [retrying] = await claim('app', 'me', { now, limit: 1 });
        expect(await store.completeAttempts([{ ...completion(retrying!, { kind: 'retry', nextAttemptAt: now + 60_000 }), fallback: 'audit' }], 'me')).toEqual([]);
        const [both] = await claim('app', 'me', { now, limit: 1 });
        expect(both!.eventId).not.toBe(retrying!.eventId);
        expect(await store.completeAttempts([{ ...completion(both!, { kind: 'dead' }), fallback: 'audit' }], 'someone-else')).toEqual([]);
        expect((await store.getDelivery(both!.id))?.status).toBe('in_flight');
        expect(await store.completeAttempts([{ ...completion(both!, { kind: 'dead' }), fallback: 'audit' }], 'me')).toEqual([]);
        expect((await store.listDeliveriesOfEvent(both!.eventId)).map((x) => [x.destination, x.fallbackFor])).toEqual([['app', null], ['audit', null]]);
      });

      it('releaseClaims puts claimed deliveries back without counting an attempt', async () => {
        await store.ingest(newEvent('rel', { destinations: ['app'] }));
        const [d] = await claim('app');
        const at = Date.now() + 5_000;
        await store.releaseClaims([d!.id], at);
        expect(await store.getDelivery(d!.id)).toMatchObject({ status: 'pending', attempts: 0, budgetUsed: 0, nextAttemptAt: at, leaseExpiresAt: null });
        expect(await store.listAttempts(d!.id)).toEqual([]);
        await store.releaseClaims([], at);
      });

      it('an attempt released unfinished (attempted) or taken over from an expired lease moves the attempt count on, not the budget', async () => {
        await store.ingest(newEvent('cut', { destinations: ['app'] }));
        const [d] = await claim('app');
        await store.releaseClaims([d!.id], Date.now(), true);
        expect(await store.getDelivery(d!.id)).toMatchObject({ status: 'pending', attempts: 1, budgetUsed: 0 });
        const now = Date.now();
        const [again] = await claim('app', 'gone', { now, leaseMs: 50 });
        expect(again!.attempts).toBe(1);
        // Its claimer vanished: another claim takes the expired lease over; the attempt it may have sent is counted.
        const [takenOver] = await claim('app', 'next', { now: now + 100 });
        expect(takenOver).toMatchObject({ id: d!.id, attempts: 2, budgetUsed: 0 });
        expect((await store.getDelivery(d!.id))?.attempts).toBe(2);
      });
    });

    describe('recovery and due times', () => {
      it('recoverOrphanedLeases releases expired leases (and live ones only where one process owns the database)', async () => {
        await store.ingest(newEvent('r1', { destinations: ['app'] }));
        await store.ingest(newEvent('r2', { destinations: ['app'] }));
        const now = Date.now();
        const [expired] = await claim('app', 'gone', { now, limit: 1, leaseMs: 100 });
        const [live] = await claim('app', 'alive', { now, limit: 1, leaseMs: 60_000 });
        const recovered = await store.recoverOrphanedLeases(now + 200);
        expect(recovered).toBe(harness.recoversLiveLeases ? 2 : 1);
        expect(await store.getDelivery(expired!.id)).toMatchObject({ status: 'pending', attempts: 1, budgetUsed: 0 });
        expect((await store.getDelivery(live!.id))?.status).toBe(harness.recoversLiveLeases ? 'pending' : 'in_flight');
      });

      it('nextDueAt: per destination, the earliest pending due time or lease expiry; absent when nothing waits', async () => {
        expect(await store.nextDueAt([{ destination: 'app' }])).toEqual({});
        const before = Date.now();
        await store.ingest(newEvent('n1'));
        const due = await store.nextDueAt([{ destination: 'app' }, { destination: 'audit' }]);
        expect(Object.keys(due).sort()).toEqual(['app', 'audit']);
        expect(due.app).toBeGreaterThanOrEqual(before);
        expect(due.app).toBeLessThanOrEqual(Date.now());
        const now = Date.now();
        await claim('app', 'x', { now, leaseMs: 40_000 });
        expect(await store.nextDueAt([{ destination: 'app' }, { destination: 'elsewhere' }])).toEqual({ app: now + 40_000 });
      });

      it('nextDueAt: a fifo destination answers its head, not a later row that is due', async () => {
        await store.ingest(newEvent('h1', { destinations: ['app'] }));
        await store.ingest(newEvent('h2', { destinations: ['app'] }));
        const now = Date.now();
        const [head] = await store.claimDue({ destination: 'app', limit: 1, now, leaseExpiresAt: now + 40_000, owner: 'x', fifo: true });
        expect(head).toBeDefined();
        const plain = await store.nextDueAt([{ destination: 'app' }]);
        expect(plain.app).toBeLessThanOrEqual(now);
        expect(await store.nextDueAt([{ destination: 'app', fifo: true }])).toEqual({ app: now + 40_000 });
        const retryAt = now + 60_000;
        await store.completeAttempts([completion(head!, { kind: 'retry', nextAttemptAt: retryAt })], 'x');
        expect(await store.nextDueAt([{ destination: 'app', fifo: true }])).toEqual({ app: retryAt });
      });

      it('nextDueAt sees a commit by another connection; it begins no write transaction', async () => {
        const other = await open();
        const idle = await store.writeTransactions();
        expect(await store.nextDueAt([{ destination: 'app' }])).toEqual({});
        await other.ingest(newEvent('elsewhere-1', { destinations: ['app'] }));
        expect(Object.keys(await store.nextDueAt([{ destination: 'app' }]))).toEqual(['app']);
        expect(await store.writeTransactions()).toBe(idle);
      });

      it('writeTransactions counts the writes this store began, and only its own', async () => {
        const start = await store.writeTransactions();
        await store.ingest(newEvent('w1'));
        const afterIngest = await store.writeTransactions();
        expect(afterIngest).toBeGreaterThan(start);
        const [delivery] = await claim('app');
        const afterClaim = await store.writeTransactions();
        expect(afterClaim).toBeGreaterThan(afterIngest);
        await store.completeAttempts([completion(delivery!, { kind: 'delivered' })], 'owner-a');
        const afterComplete = await store.writeTransactions();
        expect(afterComplete).toBeGreaterThan(afterClaim);
        await store.stats([...DESTINATIONS]);
        await store.listDeliveries({ limit: 10 });
        await store.getDelivery(delivery!.id);
        expect(await store.writeTransactions()).toBe(afterComplete);
        const other = await open();
        expect(await other.writeTransactions()).toBe(0);
      });
    });

    describe('operator reads', () => {
      it('stats counts by status and destination, configured destinations included at zero', async () => {
        await store.ingest(newEvent('s1'));
        await store.ingest(newEvent('s2', { destinations: ['app'] }));
        const [d] = await claim('app', 'o', { limit: 1 });
        await store.completeAttempts([completion(d!, { kind: 'delivered' })], 'o');
        await claim('app', 'o', { limit: 1 });
        const stats = await store.stats(['app', 'audit', 'idle']);
        expect(stats).toEqual({
          events: 2,
          deliveries: { pending: 1, in_flight: 1, delivered: 1, dead: 0 },
          destinations: {
            app: { pending: 0, in_flight: 1, delivered: 1, dead: 0 },
            audit: { pending: 1, in_flight: 0, delivered: 0, dead: 0 },
            idle: { pending: 0, in_flight: 0, delivered: 0, dead: 0 },
          },
        });
      });

      it('listDeliveries pages newest first with a cursor and filters by status, destination, source and since', async () => {
        for (let i = 0; i < 5; i++) await store.ingest(newEvent(`p${i}`));
        await store.ingest(newEvent('gh', { source: 'github', destinations: ['app'] }));
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const result = await store.listDeliveries({ limit: 4, ...(cursor ? { cursor } : {}) });
          seen.push(...result.deliveries.map((d) => d.id));
          if (!result.nextCursor) break;
          cursor = result.nextCursor;
        }
        expect(seen).toHaveLength(11);
        expect(new Set(seen).size).toBe(11);
        expect([...seen].sort().reverse()).toEqual(seen);
        expect((await store.listDeliveries({ limit: 100, destination: 'audit' })).deliveries).toHaveLength(5);
        expect((await store.listDeliveries({ limit: 100, source: 'github' })).deliveries.map((d) => d.dedupeKey)).toEqual(['gh']);
        await deadDelivery('dead-one', 'graveyard');
        const dead = await store.listDeliveries({ limit: 100, status: 'dead' });
        expect(dead.deliveries.map((d) => d.dedupeKey)).toEqual(['dead-one']);
        expect(dead.nextCursor).toBeNull();
        expect((await store.listDeliveries({ limit: 100, status: 'dead', since: Date.now() + 60_000 })).deliveries).toEqual([]);
        expect((await store.listDeliveries({ limit: 100, since: Date.now() - 60_000 })).deliveries).toHaveLength(12);
      });

      it('getEvent, getDelivery and listAttempts answer null or empty for unknown ids', async () => {
        expect(await store.getEvent('evt_missing')).toBeNull();
        expect(await store.getDelivery('dlv_missing')).toBeNull();
        expect(await store.listAttempts('dlv_missing')).toEqual([]);
        expect(await store.listDeliveriesOfEvent('evt_missing')).toEqual([]);
      });

      it('findEvents by dedupe key or id, by source, newest first, paged by id', async () => {
        const a = await store.ingest(newEvent('find-a', { body: Buffer.from('12345') }));
        await new Promise((resolve) => setTimeout(resolve, 5));
        const b = await store.ingest(newEvent('find-b', { source: 'github' }));
        expect(await store.findEvents({ query: 'find-a', limit: 10 })).toEqual([
          { id: a.id, source: 'cerebrium', dedupeKey: 'find-a', contentType: 'application/json', size: 5, receivedAt: expect.any(Number) },
        ]);
        expect((await store.findEvents({ query: b.id, limit: 10 })).map((e) => e.id)).toEqual([b.id]);
        expect((await store.findEvents({ limit: 10 })).map((e) => e.id)).toEqual([b.id, a.id]);
        expect((await store.findEvents({ source: 'github', limit: 10 })).map((e) => e.id)).toEqual([b.id]);
        expect((await store.findEvents({ cursor: b.id, limit: 10 })).map((e) => e.id)).toEqual([a.id]);
        expect(await store.findEvents({ limit: 1 })).toHaveLength(1);
      });

      it('findEvents with prefix: the dedupe key or the id starts with the query', async () => {
        const a = await store.ingest(newEvent('run-abc-1'));
        const b = await store.ingest(newEvent('run-abc-2', { source: 'github' }));
        await store.ingest(newEvent('run-abd-3'));
        await store.ingest(newEvent('xrun-abc'));
        expect((await store.findEvents({ query: 'run-abc', prefix: true, limit: 10 })).map((e) => e.id)).toEqual([b.id, a.id]);
        expect(await store.findEvents({ query: 'run-abc', limit: 10 })).toEqual([]);
        expect((await store.findEvents({ query: a.id.slice(0, -2), prefix: true, limit: 10 })).map((e) => e.id)).toContain(a.id);
        expect((await store.findEvents({ query: 'run-ab', prefix: true, source: 'github', limit: 10 })).map((e) => e.id)).toEqual([b.id]);
      });

      it('retryNow makes waiting pending deliveries of the named destinations due now, attempts unchanged', async () => {
        await store.ingest(newEvent('wait-1'));
        await store.ingest(newEvent('wait-2'));
        const later = Date.now() + 3_600_000;
        const claimed = [...(await claim('app')), ...(await claim('audit'))];
        await store.completeAttempts(claimed.map((d) => completion(d, { kind: 'retry', nextAttemptAt: later })), 'owner-a');
        expect(await claim('app', 'owner-b')).toEqual([]);
        const now = Date.now();
        expect(await store.retryNow(['app'], now)).toBe(2);
        expect(await store.retryNow(['app'], now)).toBe(0);
        const due = await store.nextDueAt([{ destination: 'app' }, { destination: 'audit' }]);
        expect(due.app).toBeLessThanOrEqual(now);
        expect(due.audit).toBe(later);
        const again = await claim('app');
        expect(again.map((d) => d.attempts)).toEqual([1, 1]);
      });

      it('quarantine keeps rejected callbacks byte-exact, bounded by age and bytes per source (oldest out first)', async () => {
        const entry = (source: string, body: string, receivedAt = Date.now()) => ({
          source,
          reason: 'HOOKRELAY_SIGNATURE_INVALID',
          headers: { 'x-request-id': `req-${body}`, 'x-multi': ['a', 'b'] },
          body: Buffer.from(body),
          receivedAt,
        });
        const limits = { maxBytes: 1_000_000, maxAgeMs: 3_600_000 };
        const now = Date.now();
        await store.quarantine(entry('cerebrium', 'old', now - 7_200_000), limits, now - 7_200_000);
        await store.quarantine(entry('other', 'elsewhere'), limits, now);
        await store.quarantine(entry('cerebrium', 'first'), limits, now);
        // The 2-hour-old entry of cerebrium is past maxAgeMs; other sources are not touched.
        expect((await store.listQuarantined({ source: 'cerebrium' })).map((e) => e.id)).toHaveLength(1);
        const [first] = await store.listQuarantined({ source: 'cerebrium' });
        const read = await store.getQuarantined(first!.id);
        expect(read).toMatchObject({ source: 'cerebrium', reason: 'HOOKRELAY_SIGNATURE_INVALID', headers: { 'x-request-id': 'req-first', 'x-multi': ['a', 'b'] } });
        expect(read!.body.equals(Buffer.from('first'))).toBe(true);
        const size = first!.size;
        await store.quarantine(entry('cerebrium', 'secon'), { ...limits, maxBytes: size * 2 }, now);
        await store.quarantine(entry('cerebrium', 'third'), { ...limits, maxBytes: size * 2 }, now);
        const kept = await store.listQuarantined({});
        expect(kept.filter((e) => e.source === 'cerebrium').map((e) => e.id)).not.toContain(first!.id);
        expect(kept.filter((e) => e.source === 'cerebrium')).toHaveLength(2);
        expect(await store.quarantineCounts()).toEqual({ cerebrium: 2, other: 1 });
        expect(await store.pruneQuarantined('other', now - 1)).toBe(0);
        expect(await store.pruneQuarantined('other', Date.now() + 60_000)).toBe(1);
        expect(await store.removeQuarantined(kept.map((e) => e.id))).toBe(2);
        expect(await store.quarantineCounts()).toEqual({});
        expect(await store.getQuarantined(first!.id)).toBeNull();
      });

      it('findEvents pages through events committed together (one received_at) without skipping or repeating any', async () => {
        // Concurrent ingests share one group commit, so many events carry the same millisecond.
        const ingested = await Promise.all(Array.from({ length: 25 }, (_, index) => store.ingest(newEvent(`page-${index}`))));
        const receivedAt = new Set(await Promise.all(ingested.map(async ({ id }) => (await store.getEvent(id))!.receivedAt)));
        expect(receivedAt.size).toBeLessThan(ingested.length);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 20; page++) {
          const events = await store.findEvents({ limit: 4, cursor });
          seen.push(...events.map((event) => event.id));
          if (events.length < 4) break;
          cursor = events[events.length - 1]!.id;
        }
        expect(seen).toHaveLength(ingested.length);
        expect(new Set(seen)).toEqual(new Set(ingested.map(({ id }) => id)));
        expect(seen).toEqual([...seen].sort().reverse());
      });

      it('attemptHistogram buckets delivered and failed attempts per destination', async () => {
        await store.ingest(newEvent('h1'));
        await store.ingest(newEvent('h2'));
        const claimed = [...(await claim('app')), ...(await claim('audit'))];
        const at = Date.now();
        await store.completeAttempts(
          claimed.map((d, i) => {
            const done = completion(d, i === 0 ? { kind: 'retry', nextAttemptAt: at } : { kind: 'delivered' });
            return { ...done, attempt: { ...done.attempt, startedAt: at } };
          }),
          'owner-a',
        );
        const buckets = await store.attemptHistogram(at - 60_000, 60_000);
        const bucket = Math.floor(at / 60_000) * 60_000;
        expect(buckets).toEqual([
          { destination: 'app', at: bucket, delivered: 1, failed: 1 },
          { destination: 'audit', at: bucket, delivered: 2, failed: 0 },
        ]);
        expect(await store.attemptHistogram(at + 60_000, 60_000)).toEqual([]);
      });
    });

    describe('replay, redeliver, retention', () => {
      it('replayDead by ids, destination, all and since; dryRun only counts', async () => {
        const one = await deadDelivery('d1');
        const two = await deadDelivery('d2', 'audit');
        const three = await deadDelivery('d3');
        expect(await store.replayDead({ all: true }, Date.now(), true)).toEqual({ matched: 3, replayed: 0 });
        expect((await store.getDelivery(one))?.status).toBe('dead');
        expect(await store.replayDead({ all: true, since: Date.now() + 60_000 }, Date.now(), false)).toEqual({ matched: 0, replayed: 0 });
        expect(await store.replayDead({ ids: [one, 'dlv_unknown'] }, Date.now(), false)).toEqual({ matched: 1, replayed: 1 });
        const replayed = await store.getDelivery(one);
        expect(replayed).toMatchObject({ status: 'pending', budgetUsed: 0, attempts: 1, deadAt: null });
        expect(await store.replayDead({ destination: 'audit' }, Date.now(), false)).toEqual({ matched: 1, replayed: 1 });
        expect((await store.getDelivery(two))?.status).toBe('pending');
        expect(await store.replayDead({ all: true, since: Date.now() - 60_000 }, Date.now(), false)).toEqual({ matched: 1, replayed: 1 });
        expect((await store.getDelivery(three))?.status).toBe('pending');
        expect(await store.replayDead({ all: true }, Date.now(), false)).toEqual({ matched: 0, replayed: 0 });
        // A replayed delivery is claimed again with the next attempt number.
        const again = (await claim('app')).find((d) => d.id === one);
        expect(again).toMatchObject({ attempts: 1, budgetUsed: 0 });
      });

      it('redeliver reopens delivered deliveries with a fresh budget, creates missing ones, leaves in-flight ones, null for unknown events', async () => {
        const { id: eventId } = await store.ingest(newEvent('again', { destinations: ['app', 'audit'] }));
        const [app] = await claim('app');
        await store.completeAttempts([completion(app!, { kind: 'delivered' })], 'owner-a');
        const [audit] = await claim('audit');
        const affected = await store.redeliver(eventId, ['app', 'audit', 'newcomer'], Date.now());
        expect(affected).toHaveLength(2);
        expect(affected).toContain(app!.id);
        expect(affected).not.toContain(audit!.id);
        expect(await store.getDelivery(app!.id)).toMatchObject({ status: 'pending', attempts: 1, budgetUsed: 0 });
        expect((await store.getDelivery(audit!.id))?.status).toBe('in_flight');
        const deliveries = await store.listDeliveriesOfEvent(eventId);
        expect(deliveries.map((d) => d.destination)).toEqual(['app', 'audit', 'newcomer']);
        expect(deliveries[2]).toMatchObject({ status: 'pending', attempts: 0, source: 'cerebrium' });
        expect(await store.redeliver('evt_unknown', ['app'], Date.now())).toBeNull();
      });

      it('pruneDelivered removes old events whose deliveries are all delivered, with their attempts', async () => {
        const done = await store.ingest(newEvent('old-done', { destinations: ['app'] }));
        const open = await store.ingest(newEvent('old-open', { destinations: ['app', 'audit'] }));
        for (const d of await claim('app')) await store.completeAttempts([completion(d, { kind: 'delivered' })], 'owner-a');
        const later = Date.now() + 1;
        expect(await store.pruneDelivered(later, 100)).toBe(1);
        expect(await store.getEvent(done.id)).toBeNull();
        expect(await store.listDeliveriesOfEvent(done.id)).toEqual([]);
        expect(await store.getEvent(open.id)).not.toBeNull();
        expect(await store.pruneDelivered(later, 100)).toBe(0);
        // Pruned: the key is free again.
        expect((await store.ingest(newEvent('old-done'))).duplicate).toBe(false);
      });

      it('pruneDelivered honours its limit and its time bound', async () => {
        for (const key of ['l1', 'l2', 'l3']) await store.ingest(newEvent(key, { destinations: [] }));
        expect(await store.pruneDelivered(Date.now() - 60_000, 100)).toBe(0);
        expect(await store.pruneDelivered(Date.now() + 1, 2)).toBe(2);
        expect((await store.stats([])).events).toBe(1);
      });
    });

    defineRunConformance(() => store, open);

    describe('storage errors and lifecycle', () => {
      it('a write that cannot commit rejects with HOOKRELAY_STORAGE_UNAVAILABLE, and works again afterwards', async () => {
        const release = await db.blockWrites();
        let error: unknown;
        try {
          await store.ingest(newEvent('blocked'));
        } catch (caught) {
          error = caught;
        }
        expect(isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE')).toBe(true);
        expect(await store.isWritable()).toBe(false);
        await release();
        expect((await store.ingest(newEvent('blocked'))).duplicate).toBe(false);
        expect(await store.isWritable()).toBe(true);
      });

      it('after close, ingest is refused with HOOKRELAY_SHUTTING_DOWN and queued ingests were committed', async () => {
        const pending = store.ingest(newEvent('just-in-time'));
        await store.close();
        await expect(pending).resolves.toMatchObject({ duplicate: false });
        await expect(store.ingest(newEvent('too-late'))).rejects.toMatchObject({ code: 'HOOKRELAY_SHUTTING_DOWN' });
        const other = await open();
        expect((await other.findEvents({ query: 'just-in-time', limit: 1 })).length).toBe(1);
      });
    });
  });
}
