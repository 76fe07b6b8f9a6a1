import type { Command } from 'commander';
import { HookrelayError } from '../../errors.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';
import type { RunsListOptions } from './runs-action.js';

export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('tracked Cerebrium runs: which callbacks came, which are overdue or lost')
    // Without a known subcommand, whatever follows is answered with one usage line (exit 2).
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new HookrelayError('HOOKRELAY_USAGE', 'runs needs a subcommand: runs list, runs show RUN_ID');
    });

  withCommonOptions(runs.command('list'))
    .description('runs newest first (JSON lines with --json)')
    .option('--status <status>', 'submitted, completed, overdue or lost')
    .action(async (options: RunsListOptions) => (await import('./runs-action.js')).runRunsList(options));

  withCommonOptions(runs.command('show'))
    .description('one run (exit 1 when unknown)')
    .argument('<runId>', "Cerebrium's run id")
    .action(async (runId: string, options: GlobalOptions) => (await import('./runs-action.js')).runRunsShow(runId, options));
}
