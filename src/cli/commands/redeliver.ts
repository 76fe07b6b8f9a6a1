import type { Command } from 'commander';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

export interface RedeliverOptions extends GlobalOptions {
  event: string;
  destination?: string;
}

export function registerRedeliver(program: Command): void {
  withCommonOptions(program.command('redeliver'))
    .description('send a stored event again (same webhook-id), to every destination of its source or to one; an unknown event or destination exits 1')
    .requiredOption('--event <id>', 'the event id (the webhook-id consumers saw)')
    .option('--destination <name>', 'only this destination (it must take the event\'s source)')
    .action(async (options: RedeliverOptions) => (await import('./redeliver-action.js')).runRedeliver(options));
}
