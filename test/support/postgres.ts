import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { quoteIdentifier } from '../../src/store/postgres/sql.js';

/**
 * The PostgreSQL server of this test run (see postgres-global-setup.ts). Throws with the
 * reason when none is available: the PostgreSQL suites fail loudly rather than pass empty.
 */
export function postgresUrl(): string {
  const url = inject('postgresUrl');
  if (!url) throw new Error(`PostgreSQL suites need a server: ${inject('postgresUnavailable')}`);
  return url;
}

export interface TestSchema {
  url: string;
  schema: string;
  /** Runs one statement on the test server (for assertions and set-up). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** A fresh schema name per test file or suite, so suites never see each other's rows. */
export function testSchema(prefix = 't'): TestSchema {
  const url = postgresUrl();
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    url,
    schema,
    query,
    drop: async () => {
      await query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
    },
  };
}
