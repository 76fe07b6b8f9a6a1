import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/load.js';
import { HookrelayError } from '../errors.js';
import { openSqlite } from './sqlite/open-sqlite.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** Who connects: names the PostgreSQL connections (`hookrelay-serve`, `hookrelay-cli` in pg_stat_activity). */
  client: 'serve' | 'cli';
  /** SQLite: take the one-process lock on the database (`serve`; see OpenSqliteOptions.lock). */
  lock: boolean;
  /** SQLite: run the connection in worker threads (`serve`) or on the calling thread. */
  thread: 'worker' | 'inline';
  /**
   * SQLite: a database file that does not exist is an error (HOOKRELAY_DATABASE_NOT_FOUND), not
   * created. The CLI's: run from another folder, a relative path would otherwise open a new,
   * empty database and every count would read 0.
   */
  mustExist: boolean;
}

/** Opens the configured storage engine. The only place that chooses an adapter. */
export async function openStore(storage: Config['storage'], options: OpenStoreOptions): Promise<Store> {
  switch (storage.kind) {
    case 'sqlite':
      if (options.mustExist) assertDatabaseExists(storage.sqlite.path);
      return openSqlite({ path: storage.sqlite.path, busyTimeoutMs: storage.sqlite.busyTimeoutMs, lock: options.lock, thread: options.thread });
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres/postgres-store.js');
      return openPostgresStore({ ...storage.postgres, client: options.client });
    }
  }
}

function assertDatabaseExists(path: string): void {
  if (path === ':memory:') return;
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new HookrelayError('HOOKRELAY_DATABASE_NOT_FOUND', `no database at ${absolute}`);
}
