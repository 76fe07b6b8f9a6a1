import pg from 'pg';

/**
 * The connection pool of one store. pg emits 'error' on a client whenever the server sends an
 * error while no statement runs on it (pg_terminate_backend, a restart, a failover) — also
 * after the client was handed back as broken and is being closed, when the pool no longer
 * listens to it. Unhandled, that event ends the process. So every client the pool creates
 * keeps a listener for its whole life: its failures reach the caller through the statements
 * that then fail (a storage error), and a broken client is never pooled again.
 */
export function createPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  // An idle connection that breaks is dropped by the pool; the next query opens a new one.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}
