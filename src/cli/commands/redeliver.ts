import type { Command } from 'commander';
import { withCommonOptions } from './common-options.js';
import type { RedeliverOptions } from './redeliver-action.js';

export function registerRedeliver(program: Command): void {
  withCommonOptions(program.command('redeliver'))
    .description('send a stored event again (same webhook-id), to every destination of its source or to one; an unknown event or destination exits 1')
    .requiredOption('--event <idOrRunId>', 'the event id (the webhook-id consumers saw), or its run id / dedupe key')
    .option('--destination <name>', 'only this destination (it must take the event\'s source)')
    .action(async (options: RedeliverOptions) => (await import('./redeliver-action.js')).runRedeliver(options));
}
