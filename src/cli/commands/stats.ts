import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

/** `stats`: counts events and deliveries by status and destination (every configured destination, zeros included). */
export function registerStats(program: Command): void {
  withCommonOptions(program.command('stats'))
    .description('count events and deliveries by status and destination')
    .action(async (options: GlobalOptions, command: Command) => {
      const { readStats } = await import('../../operator/stats.js');
      const stats = await cliContext(command).withStore(readStats);
      if (options.json) {
        printJson(stats);
        return;
      }
      const { deliveries } = stats;
      const rows = [
        ['destination', 'pending', 'in flight', 'delivered', 'dead'],
        ...Object.entries(stats.destinations).map(([name, c]) => [name, c.pending, c.inFlight, c.delivered, c.dead].map(String)),
        ['(all)', ...[deliveries.pending, deliveries.inFlight, deliveries.delivered, deliveries.dead].map(String)],
      ];
      process.stdout.write(`events: ${stats.events}\n${formatTable(rows)}`);
    });
}
