import type { Command } from 'commander';
import { HookrelayError } from '../../errors.js';
import { withCommonOptions } from './common-options.js';
import type { QuarantineListOptions, QuarantineReleaseOptions } from './quarantine-action.js';

export function registerQuarantine(program: Command): void {
  const quarantine = program
    .command('quarantine')
    .description('callbacks rejected for their signature or timestamp, kept by sources with quarantine set')
    // Without a known subcommand, whatever follows is answered with one usage line (exit 2).
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new HookrelayError('HOOKRELAY_USAGE', 'quarantine needs a subcommand: quarantine list, quarantine release');
    });

  withCommonOptions(quarantine.command('list'))
    .description('quarantined callbacks, newest first (JSON lines with --json)')
    .option('--source <name>', 'only this source')
    .action(async (options: QuarantineListOptions) => (await import('./quarantine-action.js')).runQuarantineList(options));

  withCommonOptions(quarantine.command('release'))
    .description('verify quarantined callbacks again with the current secrets and ingest those that pass; the rest stay')
    .option('--id <ids...>', 'these quarantined callbacks (ids as printed by quarantine list)')
    .option('--source <name>', "this source's quarantined callbacks")
    .option('--all', 'every quarantined callback')
    .option('--force', 'ingest without verifying (an explicit operator decision, logged)')
    .action(async (options: QuarantineReleaseOptions) => (await import('./quarantine-action.js')).runQuarantineRelease(options));
}
