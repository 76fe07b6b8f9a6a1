import type { Command } from 'commander';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

export function registerBackup(program: Command): void {
  withCommonOptions(program.command('backup'))
    .description('copy the SQLite database to a new FILE, consistently, while serve runs (PostgreSQL: use pg_dump)')
    .argument('<file>', 'the backup file to create (must not exist)')
    .action(async (file: string, options: GlobalOptions) => (await import('./backup-action.js')).runBackup(file, options));
}
