import type { Command } from 'commander';
import { HookrelayError } from '../../errors.js';
import { DELIVERY_PAGE_MAX } from '../../operator/deliveries.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';
import type { DeliveriesListOptions } from './deliveries-action.js';

export function registerDeliveries(program: Command): void {
  const deliveries = program
    .command('deliveries')
    .description('inspect deliveries and their attempt logs')
    // Without a known subcommand, whatever follows is answered with one usage line (exit 2).
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new HookrelayError('HOOKRELAY_USAGE', 'deliveries needs a subcommand: deliveries show ID, deliveries list');
    });

  withCommonOptions(deliveries.command('show'))
    .description('one delivery with its attempt log')
    .argument('<id>', 'delivery id (as printed by dlq list)')
    .action(async (id: string, options: GlobalOptions) => (await import('./deliveries-action.js')).runDeliveriesShow(id, options));

  withCommonOptions(deliveries.command('list'))
    .description('deliveries newest first (JSON lines with --json)')
    .option('--status <status>', 'pending, in_flight, delivered or dead')
    .option('--destination <name>', 'only this destination')
    .option('--source <name>', 'only this source')
    .option('--event <idOrRunId>', "only this event's deliveries (an event id, run id or dedupe key)")
    .option('--since <duration|time>', 'only those that changed state within this long or since this ISO-8601 time')
    .option('--limit <n>', `at most this many (1-${DELIVERY_PAGE_MAX})`, '50')
    .option('--cursor <cursor>', 'the next (older) page: the cursor the previous page printed')
    .action(async (options: DeliveriesListOptions) => (await import('./deliveries-action.js')).runDeliveriesList(options));
}
