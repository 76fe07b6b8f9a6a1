import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { quoteIdentifier } from '../../src/store/postgres/sql.js';
import { waitFor } from '../support/wait.js';
import { countsById, missingAt, sendLikeCerebrium } from '../support/postgres-fleet.js';

describe('a relay SIGKILLed under load on a shared PostgreSQL database', () => {
  it('loses nothing acknowledged: its leased deliveries are attempted by the others once the leases expire', async ({ startSink, startFleet, postgres }) => {
    const database = postgres;
    // A slow destination keeps a backlog and attempts in flight (12 at a time, 0.8 s each, for 150 events);
    // timeoutMs 2.5 s gives 10 s leases (2 x timeout + 5 s).
    const sink = await startSink(() => new Promise((resolve) => setTimeout(() => resolve(200), 800)));
    const fleet = await startFleet({
      count: 3,
      sink,
      destination: { timeoutMs: 2_500, concurrency: 4, retry: { maxAttempts: 20, initialDelayMs: 200, maxDelayMs: 1_000 } },
    });
    const victim = fleet.relays[0]!;
    const deliveries = `${quoteIdentifier(database.schema)}.deliveries`;

    const acknowledged = new Set<string>();
    let sent = 0;
    let killed = false;
    let victimLeases: { id: string; event_id: string }[] = [];
    const sender = async (worker: number) => {
      for (let index = worker; index < 150; index += 6) {
        const urls = fleet.urls();
        const outcome = await sendLikeCerebrium((tryNumber) => urls[(index + tryNumber) % urls.length], JSON.stringify({ run_id: `run-${index}` }));
        sent++;
        if (outcome.kind === 'acknowledged') acknowledged.add(outcome.id);
        if (!killed && sent >= 40) {
          killed = true;
          // Kill the victim while it holds leases (in-flight attempts it will never record).
          const pid = victim.relayPid;
          const leasedByVictim = async () =>
            database.query<{ id: string; event_id: string }>(`SELECT id, event_id FROM ${deliveries} WHERE status = 'in_flight' AND lease_owner LIKE $1`, [
              `%:${pid}:%`,
            ]);
          await waitFor(async () => (await leasedByVictim()).length > 0, { timeoutMs: 20_000, intervalMs: 10, what: 'the victim to hold leases' });
          await victim.kill();
          // What it held when it died: nobody touches these rows until their leases expire.
          victimLeases = await leasedByVictim();
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, worker) => sender(worker)));
    expect(killed).toBe(true);
    expect(victimLeases.length).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThanOrEqual(100);

    // Every acknowledged event reaches the destination (at least once: a killed attempt may have been sent already).
    await waitFor(() => missingAt(sink, acknowledged).length === 0, { timeoutMs: 60_000, what: 'every acknowledged event delivered' });
    await waitFor(
      async () => {
        const left = await database.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${deliveries} WHERE status <> 'delivered'`);
        return left[0]!.n === 0;
      },
      { timeoutMs: 30_000, what: 'no delivery left pending or in flight' },
    );
    const recovered = await database.query<{ id: string; status: string; attempts: number }>(
      `SELECT id, status, attempts FROM ${deliveries} WHERE id = ANY($1::text[])`,
      [victimLeases.map((lease) => lease.id)],
    );
    expect(recovered.map((row) => row.status)).toEqual(victimLeases.map(() => 'delivered'));
    // Only deliveries the victim held when it died may arrive twice (sent, or answered, but not recorded).
    const interrupted = new Set(victimLeases.map((lease) => lease.event_id));
    const repeated = [...countsById(sink).entries()].filter(([, count]) => count > 1).map(([id]) => id);
    expect(repeated.filter((id) => !interrupted.has(id))).toEqual([]);
    expect(Math.max(...countsById(sink).values())).toBeLessThanOrEqual(2);

    for (const relay of fleet.relays.slice(1)) expect(await relay!.stop()).toBe(0);
  });
});
