import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { isRetryable, toStorageError } from './storage-error.js';

/** Runs one statement on the pool; failures mapped to storage errors. */
export async function queryRows<R extends QueryResultRow>(pool: Pool, what: string, text: string, values: unknown[] = []): Promise<R[]> {
  try {
    return (await pool.query<R>(text, values)).rows;
  } catch (error) {
    throw toStorageError(error, what);
  }
}

const ATTEMPTS = 3;

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT when it returns, ROLLBACK
 * when it throws. A deadlock or serialization failure runs it again (up to 3 times in all);
 * other failures are mapped to storage errors. The promise resolves only after COMMIT.
 */
export async function inTransaction<T>(pool: Pool, what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toStorageError(error, what);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      if (attempt < ATTEMPTS && isRetryable(error)) continue;
      throw toStorageError(error, what);
    } finally {
      client.release(broken);
    }
  }
}
