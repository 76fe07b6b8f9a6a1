import { afterEach, describe, expect, it } from 'vitest';
import { isHookrelayError, type ErrorCode } from '../../src/errors.js';
import { eachDeadLetter, listDeadLetters } from '../../src/operator/dead-letters.js';
import { listDeliveries, showDelivery } from '../../src/operator/deliveries.js';
import { getEventDetail, searchEvents } from '../../src/operator/events.js';
import { redeliverEvent } from '../../src/operator/redeliver.js';
import { replayDeadLetters } from '../../src/operator/replay.js';
import { parseSince } from '../../src/operator/since.js';
import { readStats } from '../../src/operator/stats.js';
import { attemptAll, ingest, operatorFixture, type Fixture } from '../support/operator-fixtures.js';

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(isHookrelayError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

const DEAD_LETTER_FIELDS = ['attempts', 'deadAt', 'dedupeKey', 'destination', 'eventId', 'id', 'lastError', 'lastStatus', 'source'];

describe('operator operations on a real store', () => {
  let fixture: Fixture;
  afterEach(async () => fixture?.close());

  it('lists dead letters in the contract shape, filtered and paged', async () => {
    fixture = operatorFixture();
    const { store } = fixture;
    for (let i = 0; i < 7; i++) await ingest(store, `run-${i}`, ['app', 'audit']);
    await attemptAll(store, 'app', { kind: 'dead' });
    await attemptAll(store, 'audit', { kind: 'delivered' });
    await ingest(store, 'gh-1', ['app'], 'github');
    await attemptAll(store, 'app', { kind: 'dead' });

    const all = [];
    for await (const deadLetter of eachDeadLetter(fixture, {})) all.push(deadLetter);
    expect(all).toHaveLength(8);
    for (const deadLetter of all) {
      expect(Object.keys(deadLetter).sort()).toEqual(DEAD_LETTER_FIELDS);
      expect(deadLetter).toMatchObject({ destination: 'app', attempts: 1, lastStatus: 500, lastError: 'HTTP 500' });
      expect(new Date(deadLetter.deadAt).toISOString()).toBe(deadLetter.deadAt);
    }
    expect(all.map((d) => d.dedupeKey).sort()).toEqual(['gh-1', ...Array.from({ length: 7 }, (_, i) => `run-${i}`)].sort());

    const github = await listDeadLetters(fixture, { source: 'github' });
    expect(github.deadLetters.map((d) => d.dedupeKey)).toEqual(['gh-1']);
    expect((await listDeadLetters(fixture, { destination: 'audit' })).deadLetters).toEqual([]);
    expect((await listDeadLetters(fixture, { since: Date.now() + 60_000 })).deadLetters).toEqual([]);

    const first = await listDeadLetters(fixture, { limit: 3 });
    const second = await listDeadLetters(fixture, { limit: 3, cursor: first.nextCursor! });
    expect(first.deadLetters).toHaveLength(3);
    expect(second.deadLetters).toHaveLength(3);
    expect(new Set([...first.deadLetters, ...second.deadLetters].map((d) => d.id)).size).toBe(6);
  });

  it('replays by destination in batches with progress, dry run first, and gives a fresh budget', async () => {
    fixture = operatorFixture();
    const { store } = fixture;
    for (let i = 0; i < 10; i++) await ingest(store, `run-${i}`, ['app', 'audit']);
    await attemptAll(store, 'app', { kind: 'dead' });
    await attemptAll(store, 'audit', { kind: 'dead' });

    expect(await replayDeadLetters(fixture, { destination: 'app', dryRun: true })).toEqual({ matched: 10, replayed: 0, dryRun: true });
    expect((await readStats(fixture)).destinations.app).toEqual({ pending: 0, inFlight: 0, delivered: 0, dead: 10 });

    const progress: [number, number][] = [];
    const result = await replayDeadLetters(fixture, { destination: 'app' }, { batchSize: 3, onProgress: (done, total) => progress.push([done, total]) });
    expect(result).toEqual({ matched: 10, replayed: 10, dryRun: false });
    expect(progress).toEqual([[3, 10], [6, 10], [9, 10], [10, 10]]);
    const stats = await readStats(fixture);
    expect(stats.destinations.app).toEqual({ pending: 10, inFlight: 0, delivered: 0, dead: 0 });
    expect(stats.destinations.audit).toEqual({ pending: 0, inFlight: 0, delivered: 0, dead: 10 });
    const { deliveries } = await listDeliveries(fixture, { destination: 'app', limit: 100 });
    for (const delivery of deliveries) expect(delivery).toMatchObject({ status: 'pending', budgetUsed: 0, attempts: 1, deadAt: null });

    expect(await replayDeadLetters(fixture, { all: true })).toEqual({ matched: 10, replayed: 10, dryRun: false });
    expect((await readStats(fixture)).deliveries.dead).toBe(0);
  });

  it('replays by id (only dead ones count), honours since, and leaves dead letters of removed destinations dead', async () => {
    fixture = operatorFixture();
    const { store } = fixture;
    await ingest(store, 'a', ['app', 'gone']);
    await ingest(store, 'b', ['app']);
    const [deadA, deadB] = await attemptAll(store, 'app', { kind: 'dead' });
    const [goneA] = await attemptAll(store, 'gone', { kind: 'dead' });
    await ingest(store, 'c', ['app']);
    const [delivered] = await attemptAll(store, 'app', { kind: 'delivered' });

    expect(await replayDeadLetters(fixture, { ids: [deadA!, delivered!], dryRun: true })).toEqual({ matched: 1, replayed: 0, dryRun: true });
    // An id no delivery has is named (exit 1), before anything changes.
    await rejectsWith(replayDeadLetters(fixture, { ids: [deadA!, 'dlv_nope'] }), 'HOOKRELAY_DELIVERY_NOT_FOUND');
    expect((await store.getDelivery(deadA!))!.status).toBe('dead');
    expect(await replayDeadLetters(fixture, { ids: [deadA!], since: Date.now() + 60_000 })).toEqual({ matched: 0, replayed: 0, dryRun: false });
    expect(await replayDeadLetters(fixture, { ids: [deadA!, deadB!, goneA!, deadA!] })).toEqual({ matched: 3, replayed: 2, dryRun: false });
    expect((await store.getDelivery(goneA!))!.status).toBe('dead');
    expect((await store.getDelivery(deadB!))!.status).toBe('pending');
    // --all only covers configured destinations.
    expect(await replayDeadLetters(fixture, { all: true })).toEqual({ matched: 0, replayed: 0, dryRun: false });
  });

  it('refuses a missing or double selector (usage) and an unknown destination', async () => {
    fixture = operatorFixture();
    await rejectsWith(replayDeadLetters(fixture, {}), 'HOOKRELAY_USAGE');
    await rejectsWith(replayDeadLetters(fixture, { all: false }), 'HOOKRELAY_USAGE');
    await rejectsWith(replayDeadLetters(fixture, { all: true, destination: 'app' }), 'HOOKRELAY_USAGE');
    await rejectsWith(replayDeadLetters(fixture, { ids: [] }), 'HOOKRELAY_USAGE');
    await rejectsWith(replayDeadLetters(fixture, { destination: 'nope' }), 'HOOKRELAY_UNKNOWN_DESTINATION');
  });

  it('redelivers a delivered event to every destination of its source, or one, and creates deliveries for new destinations', async () => {
    fixture = operatorFixture();
    const { store } = fixture;
    // Stored when only "app" existed; "audit" (cerebrium only) was added later.
    const eventId = await ingest(store, 'run-1', ['app']);
    const [appDelivery] = await attemptAll(store, 'app', { kind: 'delivered' });

    const result = await redeliverEvent(fixture, { eventId });
    expect(result.eventId).toBe(eventId);
    expect(result.inFlight).toEqual([]);
    expect(result.redelivered.map((d) => d.destination).sort()).toEqual(['app', 'audit']);
    expect(result.redelivered.find((d) => d.destination === 'app')!.id).toBe(appDelivery);
    const app = await store.getDelivery(appDelivery!);
    expect(app).toMatchObject({ status: 'pending', attempts: 1, budgetUsed: 0 });

    // In flight right now: left alone and reported.
    await store.claimDue({ destination: 'app', limit: 10, now: Date.now(), leaseExpiresAt: Date.now() + 60_000, owner: 'other' });
    expect(await redeliverEvent(fixture, { eventId, destination: 'app' })).toEqual({ eventId, redelivered: [], inFlight: ['app'] });

    const github = await ingest(store, 'gh-1', ['app'], 'github');
    await rejectsWith(redeliverEvent(fixture, { eventId: github, destination: 'audit' }), 'HOOKRELAY_UNKNOWN_DESTINATION');
    await rejectsWith(redeliverEvent(fixture, { eventId, destination: 'nope' }), 'HOOKRELAY_UNKNOWN_DESTINATION');
    await rejectsWith(redeliverEvent(fixture, { eventId: 'evt_unknown' }), 'HOOKRELAY_EVENT_NOT_FOUND');
  });

  it('shows an event with its deliveries and attempt logs, finds it by dedupe key, and shows one delivery', async () => {
    fixture = operatorFixture();
    const { store } = fixture;
    const eventId = await ingest(store, 'run-42', ['app', 'audit']);
    await attemptAll(store, 'app', { kind: 'retry', nextAttemptAt: Date.now() });
    await attemptAll(store, 'app', { kind: 'delivered' });
    await attemptAll(store, 'audit', { kind: 'dead' });

    const detail = await getEventDetail(fixture, eventId);
    expect(detail.event).toMatchObject({ id: eventId, source: 'cerebrium', dedupeKey: 'run-42', bodyEncoding: 'utf8', bodyTruncated: false });
    expect(JSON.parse(detail.event.body)).toEqual({ run_id: 'run-42' });
    const app = detail.deliveries.find((d) => d.destination === 'app')!;
    expect(app.status).toBe('delivered');
    expect(app.attemptLog.map((a) => [a.number, a.outcome, a.statusCode])).toEqual([[1, 'failed', 500], [2, 'delivered', 200]]);
    expect(detail.deliveries.find((d) => d.destination === 'audit')!.status).toBe('dead');

    expect((await searchEvents(fixture, { query: 'run-42' })).events.map((e) => e.id)).toEqual([eventId]);
    expect((await searchEvents(fixture, { query: eventId })).events.map((e) => e.dedupeKey)).toEqual(['run-42']);
    expect((await searchEvents(fixture, { query: 'run-43' })).events).toEqual([]);
    expect((await searchEvents(fixture, { query: 'run-4' })).events.map((e) => e.id)).toEqual([eventId]);
    // Pages: nextCursor leads to the older events and is null on the last page.
    const others = await Promise.all(['run-50', 'run-51', 'run-52'].map((key) => ingest(store, key, ['app'])));
    const first = await searchEvents(fixture, { limit: 2 });
    expect(first.events).toHaveLength(2);
    expect(first.nextCursor).toBe(first.events[1]!.id);
    const second = await searchEvents(fixture, { limit: 2, cursor: first.nextCursor! });
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.events, ...second.events].map((e) => e.id))).toEqual(new Set([eventId, ...others]));
    await rejectsWith(searchEvents(fixture, { limit: 0 }), 'HOOKRELAY_USAGE');

    const shown = await showDelivery(fixture, app.id);
    expect(shown.delivery).toMatchObject({ id: app.id, eventId, attempts: 2, deliveredAt: expect.any(String) });
    expect(shown.attempts).toHaveLength(2);
    await rejectsWith(showDelivery(fixture, 'dlv_nope'), 'HOOKRELAY_DELIVERY_NOT_FOUND');
    await rejectsWith(getEventDetail(fixture, 'evt_nope'), 'HOOKRELAY_EVENT_NOT_FOUND');
    await rejectsWith(listDeliveries(fixture, { status: 'lost' }), 'HOOKRELAY_USAGE');
    await rejectsWith(listDeliveries(fixture, { limit: 0 }), 'HOOKRELAY_USAGE');
    expect((await listDeliveries(fixture, { status: 'in-flight' })).deliveries).toEqual([]);
  });

  it('reads --since as a duration back from now or as an ISO time', () => {
    const now = Date.parse('2026-11-22T12:00:00Z');
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('90m', now)).toBe(now - 5_400_000);
    expect(parseSince(1000, now)).toBe(now - 1000);
    expect(parseSince('2026-11-21T22:00:00Z', now)).toBe(Date.parse('2026-11-21T22:00:00Z'));
    for (const bad of ['yesterday', '2x', '', '-5m']) {
      expect(() => parseSince(bad, now)).toThrow(expect.objectContaining({ code: 'HOOKRELAY_USAGE' }));
    }
  });
});
