import DatabaseConstructor from 'better-sqlite3';
import { join } from 'node:path';
// The worker thread runs compiled code: use the build (`npm test` builds first).
import { openSqliteStoreIn } from '../../dist/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/temp.js';
import { defineStoreConformance } from './conformance.js';

defineStoreConformance({
  name: 'sqlite (worker thread, as serve runs it)',
  recoversLiveLeases: true,
  async createDatabase() {
    const dir = tempDir('hookrelay-store-worker-');
    const path = join(dir.path, 'hookrelay.db');
    return {
      open: async () => openSqliteStoreIn({ path, busyTimeoutMs: 1_000, role: 'cli', thread: 'worker' }),
      async blockWrites() {
        const holder = new DatabaseConstructor(path);
        holder.exec('BEGIN EXCLUSIVE');
        return async () => {
          holder.exec('ROLLBACK');
          holder.close();
        };
      },
      cleanup: async () => dir.cleanup(),
    };
  },
});
