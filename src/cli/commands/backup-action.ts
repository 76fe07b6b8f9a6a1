import { HookrelayError } from '../../errors.js';
import { backupSqliteDatabase } from '../../store/sqlite/backup.js';
import { printJson } from '../format.js';
import { loadOperatorConfig } from '../load-operator-config.js';
import type { GlobalOptions } from './common-options.js';

/** `backup FILE`: SQLite's online backup of the configured database. */
export async function runBackup(file: string, options: GlobalOptions): Promise<void> {
  const config = loadOperatorConfig(options.config);
  if (config.storage.kind !== 'sqlite') {
    throw new HookrelayError('HOOKRELAY_USAGE', 'backup copies a SQLite database; for PostgreSQL use pg_dump');
  }
  const result = await backupSqliteDatabase(config.storage.sqlite.path, file, config.storage.sqlite.busyTimeoutMs);
  if (options.json) printJson(result);
  else process.stdout.write(`backed up to ${result.path} (${result.bytes} bytes)\n`);
}
