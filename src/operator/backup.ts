import type { Config } from '../config/load.js';
import { HookrelayError } from '../errors.js';
import { backupSqliteDatabase } from '../store/sqlite/backup.js';

export interface BackupResult {
  /** The backup file, absolute. */
  path: string;
  bytes: number;
}

/**
 * SQLite's online backup of the configured database into a new file, consistent while `serve`
 * runs. PostgreSQL has its own tool (pg_dump): asking for it here is bad usage.
 */
export async function backupDatabase(config: Config, file: string): Promise<BackupResult> {
  if (config.storage.kind !== 'sqlite') {
    throw new HookrelayError('HOOKRELAY_USAGE', 'backup copies a SQLite database; for PostgreSQL use pg_dump');
  }
  return backupSqliteDatabase(config.storage.sqlite.path, file, config.storage.sqlite.busyTimeoutMs);
}
