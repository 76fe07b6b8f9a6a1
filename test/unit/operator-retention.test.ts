import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRetention } from '../../src/operator/retention.js';
import { waitFor } from '../support/wait.js';
import { attemptAll, ingest, operatorFixture, type Fixture } from '../support/operator-fixtures.js';

const silent = pino({ level: 'silent' });
const DAY = 86_400_000;

describe('retention: prunes old fully delivered events, keeps everything else', () => {
  let fixture: Fixture;
  afterEach(async () => fixture?.close());

  it('deletes delivered events older than the max age with their deliveries and attempts; keeps dead, pending, mixed and young ones', async () => {
    fixture = operatorFixture({ retention: { deliveredMaxAgeMs: '1d', batchSize: 2 } });
    const { store, config } = fixture;
    const delivered: string[] = [];
    for (let i = 0; i < 5; i++) delivered.push(await ingest(store, `delivered-${i}`, ['app']));
    await attemptAll(store, 'app', { kind: 'delivered' });
    const dead = await ingest(store, 'dead-1', ['app']);
    await attemptAll(store, 'app', { kind: 'dead' });
    // Delivered to one destination, dead at the other: not fully delivered, so kept.
    const mixed = await ingest(store, 'mixed-1', ['app', 'audit']);
    await attemptAll(store, 'app', { kind: 'delivered' });
    await attemptAll(store, 'audit', { kind: 'dead' });
    const pending = await ingest(store, 'pending-1', ['app']);
    const deliveredIds = (await store.listDeliveries({ status: 'delivered', limit: 100 })).deliveries
      .filter((d) => delivered.includes(d.eventId))
      .map((d) => d.id);
    expect(deliveredIds).toHaveLength(5);

    // "Now" is two days later: everything stored is older than the one-day max age.
    const retention = createRetention({ config, store, logger: silent, now: () => Date.now() + 2 * DAY, pauseMs: 0 });
    // Five prunable events with batches of two: one run takes three batches and removes all five.
    expect(await retention.runOnce()).toBe(5);

    for (const id of delivered) expect(await store.getEvent(id)).toBeNull();
    for (const id of deliveredIds) {
      expect(await store.getDelivery(id)).toBeNull();
      expect(await store.listAttempts(id)).toEqual([]);
    }
    for (const id of [dead, pending, mixed]) expect(await store.getEvent(id)).not.toBeNull();
    const stats = await store.stats(['app', 'audit']);
    expect(stats.events).toBe(3);
    expect(stats.destinations.app).toEqual({ pending: 1, in_flight: 0, delivered: 1, dead: 1 });
    expect(stats.destinations.audit).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 1 });
    // A pruned event's dedupe key is free again (the contract: dedupe lasts as long as the event is stored).
    expect((await store.ingest({ source: 'cerebrium', dedupeKey: 'delivered-0', contentType: 'text/plain', contentEncoding: null, body: Buffer.from('x'), destinations: [] })).duplicate).toBe(false);
    expect((await store.ingest({ source: 'cerebrium', dedupeKey: 'dead-1', contentType: 'text/plain', contentEncoding: null, body: Buffer.from('x'), destinations: [] })).duplicate).toBe(true);
    await retention.stop();
  });

  it('keeps delivered events younger than the max age', async () => {
    fixture = operatorFixture({ retention: { deliveredMaxAgeMs: '1h' } });
    const { store, config } = fixture;
    const young = await ingest(store, 'young', ['app']);
    await attemptAll(store, 'app', { kind: 'delivered' });
    const retention = createRetention({ config, store, logger: silent });
    expect(await retention.runOnce()).toBe(0);
    expect(await store.getEvent(young)).not.toBeNull();
    await retention.stop();
  });

  it('runs on its own every intervalMs once started, and stops', async () => {
    fixture = operatorFixture({ retention: { deliveredMaxAgeMs: 1, intervalMs: 50 } });
    const { store, config } = fixture;
    const old = await ingest(store, 'old', ['app']);
    await attemptAll(store, 'app', { kind: 'delivered' });
    const retention = createRetention({ config, store, logger: silent, now: () => Date.now() + 1000 });
    retention.start();
    await waitFor(async () => (await store.getEvent(old)) === null, { timeoutMs: 10_000, what: 'the pruner to run' });
    await retention.stop();
    const later = await ingest(store, 'later', ['app']);
    await attemptAll(store, 'app', { kind: 'delivered' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await store.getEvent(later)).not.toBeNull();
  });

  it('is off when deliveredMaxAgeMs is 0', async () => {
    fixture = operatorFixture({ retention: { deliveredMaxAgeMs: 0 } });
    const { store, config } = fixture;
    const kept = await ingest(store, 'kept', ['app']);
    await attemptAll(store, 'app', { kind: 'delivered' });
    const retention = createRetention({ config, store, logger: silent, now: () => Date.now() + 365 * DAY });
    expect(await retention.runOnce()).toBe(0);
    expect(await store.getEvent(kept)).not.toBeNull();
    await retention.stop();
  });
});
