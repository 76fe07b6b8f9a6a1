import type { Command } from 'commander';
import { withCommonOptions } from './common-options.js';
import type { RetryNowOptions } from './retry-now-action.js';

export function registerRetryNow(program: Command): void {
  withCommonOptions(program.command('retry-now'))
    .description('pending deliveries waiting for a later retry become due now (attempt budget unchanged); an unknown destination exits 1')
    .option('--destination <name>', 'only this destination')
    .action(async (options: RetryNowOptions) => (await import('./retry-now-action.js')).runRetryNow(options));
}
