import type { Command } from 'commander';
import { withCommonOptions } from './common-options.js';
import type { ReplayOptions } from './replay-action.js';

export function registerReplay(program: Command): void {
  withCommonOptions(program.command('replay'))
    .description('move dead deliveries back to pending with a fresh attempt budget (same event id, same webhook-id)')
    .option('--id <ids...>', 'delivery ids as printed by `dlq list` (repeat the flag or list several)')
    .option('--destination <name>', 'every dead delivery of this destination')
    .option('--all', 'every dead delivery')
    .option('--since <duration|time>', 'only those that died within this long ("12h") or since this ISO-8601 time')
    .option('--dry-run', 'only count what would be replayed')
    .action(async (options: ReplayOptions) => (await import('./replay-action.js')).runReplay(options));
}
