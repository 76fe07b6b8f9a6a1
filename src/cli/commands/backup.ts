import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { printJson } from '../format.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

/** `backup FILE`: SQLite's online backup of the configured database. */
export function registerBackup(program: Command): void {
  withCommonOptions(program.command('backup'))
    .description('copy the SQLite database to a new FILE, consistently, while serve runs (PostgreSQL: use pg_dump)')
    .argument('<file>', 'the backup file to create (must not exist)')
    .action(async (file: string, options: GlobalOptions, command: Command) => {
      const { backupDatabase } = await import('../../operator/backup.js');
      const result = await backupDatabase(cliContext(command).loadStoreConfig(), file);
      if (options.json) printJson(result);
      else process.stdout.write(`backed up to ${result.path} (${result.bytes} bytes)\n`);
    });
}
