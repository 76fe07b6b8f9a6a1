import type { Command } from 'commander';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

export function registerCheckConfig(program: Command): void {
  withCommonOptions(program.command('check-config'))
    .description('validate the config file and the environment it reads, and print a summary')
    .action(async (options: GlobalOptions) => (await import('./check-config-action.js')).runCheckConfig(options));
}
