import type { Command } from 'commander';
import { HookrelayError } from '../../errors.js';
import { withCommonOptions } from './common-options.js';
import type { DlqListOptions } from './dlq-action.js';

export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('inspect dead letters (deliveries whose attempt budget is spent)')
    // Without a known subcommand, whatever follows is answered with one usage line (exit 2).
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new HookrelayError('HOOKRELAY_USAGE', 'dlq needs a subcommand: dlq list');
    });
  withCommonOptions(dlq.command('list'))
    .description('list dead deliveries, newest first (JSON lines with --json)')
    .option('--destination <name>', 'only this destination')
    .option('--source <name>', 'only this source')
    .option('--since <duration|time>', 'only those that died within this long ("12h", "2d") or since this ISO-8601 time')
    .option('--limit <n>', 'at most this many (newest first)')
    .action(async (options: DlqListOptions) => (await import('./dlq-action.js')).runDlqList(options));
}
