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

/** Write transactions begun per pool (hookrelay_storage_write_transactions_total). */
const writeCounts = new WeakMap<Pool, number>();

export function writeTransactionsOf(pool: Pool): number {
  return writeCounts.get(pool) ?? 0;
}

function countWrite(pool: Pool): void {
  writeCounts.set(pool, writeTransactionsOf(pool) + 1);
}

/** Runs one writing statement (its own transaction) on the pool, counted as a write transaction. */
export async function writeRows<R extends QueryResultRow>(pool: Pool, what: string, text: string, values: unknown[] = []): Promise<R[]> {
  countWrite(pool);
  return queryRows<R>(pool, what, text, values);
}

const ATTEMPTS = 3;

export interface CheckedOut {
  client: PoolClient;
  /** Returns the connection to the pool, or closes it when it broke or `broken` says its state is unknown. */
  release(broken?: boolean): void;
}

/**
 * A pooled connection for several statements. While a connection is checked out the pool
 * does not listen for its errors, and pg emits 'error' when the server ends the connection
 * between two statements (restart, failover, pg_terminate_backend) — unhandled, that would
 * kill the process. Here it only marks the connection broken: the next statement on it
 * fails (a storage error for the caller), and release() closes it instead of pooling it.
 */
export async function checkout(pool: Pool, what: string): Promise<CheckedOut> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toStorageError(error, what);
  }
  let failed = false;
  const onError = () => {
    failed = true;
  };
  client.on('error', onError);
  return {
    client,
    release(broken = false) {
      client.off('error', onError);
      client.release(broken || failed);
    },
  };
}

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT when it returns, ROLLBACK
 * when it throws. A deadlock or serialization failure runs it again (up to 3 times in all);
 * other failures are mapped to storage errors. The promise resolves only after COMMIT.
 */
export async function inTransaction<T>(pool: Pool, what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { client, release } = await checkout(pool, what);
    let broken = false;
    try {
      countWrite(pool);
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
      release(broken);
    }
  }
}
