import type { Config } from '../config/load.js';
import { openSqliteStoreIn } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export type StoreRole = 'serve' | 'cli';

/** Opens the configured storage engine. The only place that chooses an adapter. */
export async function openStore(storage: Config['storage'], role: StoreRole): Promise<Store> {
  switch (storage.kind) {
    case 'sqlite':
      return openSqliteStoreIn({ path: storage.sqlite.path, busyTimeoutMs: storage.sqlite.busyTimeoutMs, role });
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres/postgres-store.js');
      return openPostgresStore({ ...storage.postgres, role });
    }
  }
}
