import DatabaseConstructor from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/temp.js';
import { defineStoreConformance } from './conformance.js';

defineStoreConformance({
  name: 'sqlite',
  recoversLiveLeases: true,
  async createDatabase() {
    const dir = tempDir('hookrelay-store-');
    const path = join(dir.path, 'hookrelay.db');
    return {
      // Role 'cli' so a second store may share the file (the serve lock admits one).
      open: async () => openSqliteStore({ path, busyTimeoutMs: 200, role: 'cli' }),
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
