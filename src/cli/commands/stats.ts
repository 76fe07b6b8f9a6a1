import type { Command } from 'commander';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

export function registerStats(program: Command): void {
  withCommonOptions(program.command('stats'))
    .description('count events and deliveries by status and destination')
    .action(async (options: GlobalOptions) => (await import('./stats-action.js')).runStats(options));
}
