import type { Command } from 'commander';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

export function registerServe(program: Command): void {
  withCommonOptions(program.command('serve'), { json: false })
    .description('run the relay (logs JSON lines to stdout)')
    .action(async (options: GlobalOptions) => (await import('./serve-action.js')).runServe(options));
}
