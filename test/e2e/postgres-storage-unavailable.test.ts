import pg from 'pg';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { quoteIdentifier } from '../../src/store/postgres/sql.js';
import { post } from '../support/post.js';
import { RESPONDING_CEREBRIUM_SOURCE, TEST_SECRET } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { waitFor, sleep } from '../support/wait.js';
import { countsById, missingAt } from '../support/postgres-fleet.js';

describe('a relay on PostgreSQL when the database cannot commit', () => {
  it('answers 503 (never a 2xx) while its tables are locked beyond the statement timeout, /readyz 503, and 202 once they are free', async ({ cleanup, startSink, startFleet, postgres }) => {
    const database = postgres;
    const sink = await startSink();
    const fleet = await startFleet({ count: 1, sink, extra: { sources: [RESPONDING_CEREBRIUM_SOURCE] } });
    const relay = fleet.relays[0]!;
    const body = JSON.stringify({ run_id: 'while-locked' });

    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    cleanup.add(() => holder.end());
    const q = quoteIdentifier(database.schema);
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${q}.events, ${q}.deliveries, ${q}.readiness_probe IN ACCESS EXCLUSIVE MODE`);

    const blocked = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body }));
    expect(blocked.status).toBe(503);
    expect(blocked.json).toMatchObject({ error: { code: 'HOOKRELAY_STORAGE_UNAVAILABLE' } });
    const ready = await request(`${relay.url}/readyz`);
    await ready.body.text();
    expect(ready.statusCode).toBe(503);

    await holder.query('ROLLBACK');
    const accepted = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body }));
    expect(accepted.status).toBe(202);
    expect(accepted.json).toMatchObject({ duplicate: false });
    expect(await relay.stop()).toBe(0);
  });

  it('keeps running when the server ends its connections under load: 503 for the callbacks in a broken commit, every 2xx delivered', async ({ startSink, startFleet, postgres }) => {
    const database = postgres;
    const sink = await startSink();
    // A short attempt timeout keeps leases short (2 x timeout + 5 s): a claim whose answer was
    // lost with its connection is sent once the lease expires, within this test's wait.
    const fleet = await startFleet({ count: 1, sink, destination: { timeoutMs: 2_000 }, extra: { sources: [RESPONDING_CEREBRIUM_SOURCE] } });
    const relay = fleet.relays[0]!;

    let sending = true;
    const acked = new Set<string>();
    const statuses = new Map<number, number>();
    const senders = Array.from({ length: 16 }, async (_, sender) => {
      for (let n = 0; sending; n++) {
        const result = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `conn-${sender}-${n}` }) }));
        statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
        if (result.status === 202) acked.add(String(result.json!.id));
      }
    });
    // Only this relay's connections (its relay process's): other suites use the same server meanwhile.
    const applicationName = `hookrelay-serve pid=${relay.relayPid}`;
    let terminated = 0;
    for (let round = 0; round < 5; round++) {
      await sleep(400);
      const rows = await database.query<{ ended: boolean }>('SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1', [
        applicationName,
      ]);
      terminated += rows.filter((row) => row.ended).length;
    }
    await sleep(400);
    sending = false;
    await Promise.all(senders);

    expect(terminated).toBeGreaterThan(5);
    expect(relay.child.exitCode).toBeNull();
    expect([...statuses.keys()].filter((status) => status !== 202 && status !== 503)).toEqual([]);
    expect(acked.size).toBeGreaterThan(50);
    await waitFor(() => missingAt(sink, acked).length === 0, {
      timeoutMs: 30_000,
      what: 'every acknowledged callback at the sink',
    });
    const counts = countsById(sink);
    expect([...acked].filter((id) => (counts.get(id) ?? 0) > 1)).toEqual([]);
    console.log(`connections ended: ${terminated}; answers: ${JSON.stringify(Object.fromEntries(statuses))}; all ${acked.size} acknowledged delivered once`);
    expect(await relay.stop()).toBe(0);
  });
});
