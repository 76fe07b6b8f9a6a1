import DatabaseConstructor from 'better-sqlite3';
import { join } from 'node:path';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { tempDir } from '../support/temp.js';
import { defineStoreConformance } from './conformance.js';

defineStoreConformance({
  name: 'sqlite',
  recoversLiveLeases: true,
  async createDatabase() {
    const dir = tempDir('hookrelay-store-');
    const path = join(dir.path, 'hookrelay.db');
    return {
      // Without the serve lock, so a second store may share the file (the lock admits one).
      open: async () => openSqlite({ path, busyTimeoutMs: 200, lock: false, thread: 'inline' }),
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
