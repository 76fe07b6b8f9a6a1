import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createDispatcher } from '../../src/delivery/dispatcher.js';
import type { ClaimedDelivery } from '../../src/glossary.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { ClaimRequest, Store } from '../../src/store/store.js';
import { startSink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const BUDGET = 250_000;

/**
 * A lane holds at most `bodyBudgetBytes` of bodies (queued + being sent): behind a receiver
 * that does not answer, only what fits is claimed, whatever the concurrency; a body larger
 * than the whole budget is still sent, alone.
 */
describe('dispatcher: byte budget per destination', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('claims only the bodies that fit beside those it holds, and sends an oversized body alone', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    // The receiver holds every answer until `open`; `waiting` is what it holds now.
    let open = false;
    const waiting = new Set<() => void>();
    let heldBytesAtSink = 0;
    const overBudget: number[] = [];
    const sink = await startSink((request, response) => {
      const size = request.body.length;
      heldBytesAtSink += size;
      if (heldBytesAtSink > BUDGET && heldBytesAtSink !== size) overBudget.push(heldBytesAtSink);
      const answer = () => {
        heldBytesAtSink -= size;
        waiting.delete(answer);
        response.end('ok');
      };
      if (open) setImmediate(answer);
      else waiting.add(answer);
      return 'handled';
    });
    cleanups.push(() => sink.close());
    const realStore = openSqlite({ path: join(dir.path, 'hookrelay.db'), busyTimeoutMs: 1_000, lock: false, thread: 'inline' });
    cleanups.push(() => realStore.close());
    const claims: { request: ClaimRequest; claimed: ClaimedDelivery[] }[] = [];
    const store: Store = Object.create(realStore, {
      claimDue: {
        value: async (request: ClaimRequest) => {
          const claimed = await realStore.claimDue(request);
          claims.push({ request, claimed });
          return claimed;
        },
      },
    });

    const sizes = [100_000, 100_000, 100_000, 100_000, 600_000, 100_000];
    const bodies = new Map<string, Buffer>();
    for (const [index, size] of sizes.entries()) {
      const body = Buffer.alloc(size, 0x61 + index);
      const { id } = await realStore.ingest({ source: 'cerebrium', dedupeKey: `budget-${index}`, contentType: 'text/plain', contentEncoding: null, body, destinations: ['app'] });
      bodies.set(id, body);
    }
    const config = resolveConfig({
      sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } }],
      destinations: [{ name: 'app', url: sink.url, concurrency: 8, bodyBudgetBytes: BUDGET, circuitBreaker: { volumeThreshold: 1_000 } }],
    });
    const dispatcher = createDispatcher({ config, store, logger: pino({ level: 'silent' }), pollIntervalMs: 20 });
    await dispatcher.start();
    cleanups.push(() => dispatcher.stop(1_000));

    // Two bodies (200 kB) are at the receiver; a later claim offered the 50 kB left and took nothing.
    await waitFor(() => sink.received.length === 2 && claims.some(({ request, claimed }) => request.maxBodyBytes === BUDGET - 200_000 && claimed.length === 0), {
      timeoutMs: 5_000,
      what: 'two bodies held and a claim with the rest of the budget that took nothing',
    });
    expect(sink.received).toHaveLength(2);

    open = true;
    for (const answer of [...waiting]) answer();
    await waitFor(async () => (await realStore.stats(['app'])).deliveries.delivered === sizes.length, { timeoutMs: 10_000, what: 'all delivered' });

    expect(overBudget).toEqual([]);
    for (const { request, claimed } of claims) {
      const bytes = claimed.reduce((sum, delivery) => sum + delivery.body.length, 0);
      if (claimed.length === 1 && request.oversizedFirst) continue;
      expect(bytes).toBeLessThanOrEqual(request.maxBodyBytes!);
    }
    const oversized = claims.find(({ claimed }) => claimed.some((delivery) => delivery.body.length === 600_000))!;
    expect(oversized.claimed).toHaveLength(1);
    expect(oversized.request.oversizedFirst).toBe(true);
    // Each event once, byte-identical (Buffer.equals: a deep equality over 1 MB of bytes is slow).
    expect(sink.received.map((request) => String(request.headers['webhook-id'])).sort()).toEqual([...bodies.keys()].sort());
    for (const request of sink.received) expect(request.body.equals(bodies.get(String(request.headers['webhook-id']))!)).toBe(true);
  });
});
