import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isHookrelayError } from '../../src/errors.js';
import { readMigrations } from '../../src/store/postgres/migrate.js';
import { createPool } from '../../src/store/postgres/pool.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { quoteIdentifier } from '../../src/store/postgres/sql.js';
import { checkout, inTransaction } from '../../src/store/postgres/transaction.js';
import { testSchema, type TestSchema } from '../support/postgres.js';
import { defineStoreConformance } from './conformance.js';

const schemas: TestSchema[] = [];
afterAll(async () => {
  for (const schema of schemas) await schema.drop();
});

function freshSchema(): TestSchema {
  const schema = testSchema('conf');
  schemas.push(schema);
  return schema;
}

defineStoreConformance({
  name: 'postgres',
  recoversLiveLeases: false,
  async createDatabase() {
    const { url, schema } = freshSchema();
    return {
      // A short statement timeout plays the part of SQLite's busy timeout in the storage-error case.
      open: () => openPostgresStore({ url, schema, poolSize: 4, client: 'serve', statementTimeoutMs: 500 }),
      async blockWrites() {
        const holder = new pg.Client({ connectionString: url });
        await holder.connect();
        const q = quoteIdentifier(schema);
        await holder.query('BEGIN');
        await holder.query(`LOCK TABLE ${q}.events, ${q}.deliveries, ${q}.readiness_probe IN ACCESS EXCLUSIVE MODE`);
        return async () => {
          await holder.query('ROLLBACK');
          await holder.end();
        };
      },
      cleanup: async () => undefined,
    };
  },
});

describe('postgres store specifics', () => {
  it('N stores opening one schema together migrate it once', async () => {
    const { url, schema, query } = freshSchema();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openPostgresStore({ url, schema, poolSize: 2, client: 'serve' })));
    try {
      const rows = await query<{ version: number }>(`SELECT version FROM ${quoteIdentifier(schema)}.schema_migrations`);
      // Each numbered migration recorded exactly once, though five processes raced to apply it.
      const expected = readMigrations().map((migration) => migration.version);
      expect(expected.length).toBeGreaterThan(0);
      expect(rows.map((row) => row.version).sort((a, b) => a - b)).toEqual(expected);
      expect((await stores[4]!.ingest({ source: 's', dedupeKey: 'k', contentType: 'text/plain', contentEncoding: null, body: Buffer.from('x'), destinations: ['d'] })).duplicate).toBe(false);
    } finally {
      for (const store of stores) await store.close();
    }
  });

  it('an unreachable server is HOOKRELAY_STORAGE_UNAVAILABLE at open', async () => {
    const error = await openPostgresStore({ url: 'postgres://nobody@127.0.0.1:1/none', schema: 'x', poolSize: 1, client: 'cli', connectTimeoutMs: 2_000 }).catch(
      (caught: unknown) => caught,
    );
    expect(isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE')).toBe(true);
  });

  it('a dropped connection is HOOKRELAY_STORAGE_UNAVAILABLE, and the pool recovers', async () => {
    const { url, schema, query } = freshSchema();
    const store = await openPostgresStore({ url, schema, poolSize: 1, client: 'serve' });
    try {
      await store.ingest({ source: 's', dedupeKey: 'before', contentType: 'text/plain', contentEncoding: null, body: Buffer.from('x'), destinations: ['d'] });
      // Only this store's one connection, found by its last statement naming this schema (a read,
      // not a transaction's COMMIT): other tests and the bench smoke run relays on the same server meanwhile.
      await store.stats(['d']);
      const killed = await query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND position($2 IN query) > 0`,
        [`hookrelay-serve pid=${process.pid}`, quoteIdentifier(schema)],
      );
      expect(killed).toHaveLength(1);
      await query('SELECT pg_terminate_backend($1)', [killed[0]!.pid]);
      // Its pooled connection was killed: a statement on it fails as unavailable (never another error),
      // and the pool opens a new connection for the next one.
      const outcomes: string[] = [];
      for (let i = 0; i < 3 && !outcomes.includes('ok'); i++) {
        try {
          await store.ingest({ source: 's', dedupeKey: `after-${i}`, contentType: 'text/plain', contentEncoding: null, body: Buffer.from('x'), destinations: ['d'] });
          outcomes.push('ok');
        } catch (error) {
          outcomes.push(isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE') ? 'unavailable' : String(error));
        }
      }
      expect(outcomes.at(-1)).toBe('ok');
      expect(outcomes.slice(0, -1).every((outcome) => outcome === 'unavailable')).toBe(true);
      expect((await store.stats(['d'])).events).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('a connection ended by the server between two statements of a transaction is a storage error, not a process crash', async () => {
    // pg emits 'error' on a checked-out connection that the server ends while no statement runs
    // on it (restart, failover): unhandled, that event killed `serve` under load.
    const { url } = freshSchema();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    try {
      const error = await inTransaction(pool, 'test the connection', async (client) => {
        const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
        const ended = new Promise<void>((resolve, reject) => {
          client.once('end', () => resolve());
          setTimeout(() => reject(new Error('connection did not end within 5 s')), 5_000).unref();
        });
        await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        await ended;
        await client.query('SELECT 1');
      }).catch((caught: unknown) => caught);
      expect(isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE')).toBe(true);
      // The broken connection was closed, not pooled: the next transaction gets a new one.
      expect(await inTransaction(pool, 'test the pool', async (client) => (await client.query('SELECT 1 AS one')).rows[0])).toEqual({ one: 1 });
    } finally {
      await killer.end();
      await pool.end();
    }
  });

  it("a server error that reaches a connection after it was handed back as broken does not crash the process", async () => {
    // Seen under load: a transaction failed, its connection was released as broken (the pool
    // closes it and no longer listens), then the server's "terminating connection" message
    // arrived on it: pg emitted 'error' with no listener and `serve` exited.
    const { url } = freshSchema();
    const pool = createPool({ connectionString: url, max: 1 });
    try {
      const { client, release } = await checkout(pool, 'test the connection');
      release(true);
      expect(() => client.emit('error', new Error('terminating connection due to administrator command'))).not.toThrow();
      // The broken connection was closed, not pooled.
      expect(await inTransaction(pool, 'test the pool', async (next) => (await next.query('SELECT 1 AS one')).rows[0])).toEqual({ one: 1 });
    } finally {
      await pool.end();
    }
  });

  it('onDeliveriesDue announces deliveries committed by another store (another process), after commit', async () => {
    const { url, schema } = freshSchema();
    const listening = await openPostgresStore({ url, schema, poolSize: 2, client: 'serve' });
    const writer = await openPostgresStore({ url, schema, poolSize: 2, client: 'serve' });
    try {
      const heard: string[][] = [];
      const unsubscribe = listening.onDeliveriesDue!((destinations) => heard.push(destinations));
      // The LISTEN connection opens asynchronously: keep ingesting until one is heard.
      for (let i = 0; i < 100 && heard.length === 0; i++) {
        await writer.ingest({ source: 's', dedupeKey: `n${i}`, contentType: 'text/plain', contentEncoding: null, body: Buffer.from('x'), destinations: ['app', 'audit'] });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(heard[0]).toEqual(['app', 'audit']);
      const { id } = await writer.ingest({ source: 's', dedupeKey: 'dead', contentType: 'text/plain', contentEncoding: null, body: Buffer.from('x'), destinations: ['dlq-dest'] });
      const [delivery] = await writer.claimDue({ destination: 'dlq-dest', limit: 1, now: Date.now(), leaseExpiresAt: Date.now() + 10_000, owner: 'w' });
      expect(delivery?.eventId).toBe(id);
      await writer.completeAttempts(
        [{ attempt: { deliveryId: delivery!.id, number: 1, startedAt: Date.now(), durationMs: 1, statusCode: 410, errorCode: null, error: 'gone', responseSnippet: null, outcome: 'failed' }, decision: { kind: 'dead' }, countsAgainstBudget: true }],
        'w',
      );
      heard.length = 0;
      await writer.replayDead({ destination: 'dlq-dest' }, Date.now(), false);
      const deadline = Date.now() + 10_000;
      while (!heard.some((names) => names.includes('dlq-dest')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(heard.some((names) => names.includes('dlq-dest'))).toBe(true);
      unsubscribe();
    } finally {
      await listening.close();
      await writer.close();
    }
  });
});
