import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/load.js';
import { HookrelayError } from '../errors.js';
import { openSqliteStoreIn } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export type StoreRole = 'serve' | 'cli';

/**
 * Opens the configured storage engine. The only place that chooses an adapter. The CLI never
 * creates a SQLite database: run from another folder, a relative path would otherwise open a
 * new, empty one and every count would read 0.
 */
export async function openStore(storage: Config['storage'], role: StoreRole): Promise<Store> {
  switch (storage.kind) {
    case 'sqlite':
      if (role === 'cli') assertDatabaseExists(storage.sqlite.path);
      return openSqliteStoreIn({ path: storage.sqlite.path, busyTimeoutMs: storage.sqlite.busyTimeoutMs, role });
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres/postgres-store.js');
      return openPostgresStore({ ...storage.postgres, role });
    }
  }
}

function assertDatabaseExists(path: string): void {
  if (path === ':memory:') return;
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new HookrelayError('HOOKRELAY_DATABASE_NOT_FOUND', `no database at ${absolute}`);
}
