import pg from 'pg';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { quoteIdentifier } from '../../src/store/postgres/sql.js';
import { post } from '../helpers/post.js';
import { TEST_SECRET } from '../helpers/relay.js';
import { testSchema } from '../helpers/postgres.js';
import { cerebriumRequest } from '../helpers/signed-request.js';
import { startSink } from '../helpers/sink.js';
import { tempDir } from '../helpers/temp.js';
import { startFleet } from './postgres-harness.js';

describe('a relay on PostgreSQL when the database cannot commit', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('answers 503 (never a 2xx) while its tables are locked beyond the statement timeout, /readyz 503, and 202 once they are free', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const database = testSchema('e2e_down');
    cleanups.push(() => database.drop());
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const fleet = await startFleet({ dir: dir.path, count: 1, postgresUrl: database.url, schema: database.schema, sink });
    cleanups.push(() => fleet.stopAll());
    const relay = fleet.relays[0]!;
    const body = JSON.stringify({ run_id: 'while-locked' });

    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    cleanups.push(() => holder.end());
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
});
