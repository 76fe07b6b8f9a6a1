import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';
import { quoteIdentifier } from './sql.js';
import { checkout } from './transaction.js';
import { readMigrationFiles, type Migration } from '../rows.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export type { Migration };

/** This engine's numbered migrations, in order. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readMigrationFiles(dir);
}

/**
 * Creates the schema and applies the numbered migrations not applied yet, each in its own
 * transaction, recording them in `<schema>.schema_migrations`. A session advisory lock keyed
 * by the schema name serialises this: N processes starting together migrate once, the
 * others wait for the lock and then find every version applied.
 */
export async function migrate(pool: Pool, schema: string, migrations: Migration[] = readMigrations()): Promise<number[]> {
  const { client, release } = await checkout(pool, `migrate schema ${schema}`);
  const quoted = quoteIdentifier(schema);
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`hookrelay:migrate:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`);
      const applied = new Set(
        (await client.query<{ version: number }>(`SELECT version FROM ${quoted}.schema_migrations`)).rows.map((row) => row.version),
      );
      const done: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(`SET LOCAL search_path TO ${quoted}`);
          await client.query(migration.sql);
          await client.query(`INSERT INTO ${quoted}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [
            migration.version,
            migration.name,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        done.push(migration.version);
      }
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`hookrelay:migrate:${schema}`]).catch(() => {
        broken = true;
      });
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A connection whose state is unknown (lock possibly held) is closed, never reused.
    release(broken);
  }
}
