import type { Command } from 'commander';
import { loadConfigFile, resolveConfigPath } from '../../config/load.js';
import { withOperatorContext } from '../../operator/open-context.js';
import { redeliverEvent } from '../../operator/redeliver.js';
import { printJson, withCommonOptions, type GlobalOptions } from '../program.js';

interface RedeliverOptions extends GlobalOptions {
  event: string;
  destination?: string;
}

export function registerRedeliver(program: Command): void {
  withCommonOptions(program.command('redeliver'))
    .description('send a stored event again (same webhook-id), to every destination of its source or to one; an unknown event or destination exits 1')
    .requiredOption('--event <id>', 'the event id (the webhook-id consumers saw)')
    .option('--destination <name>', 'only this destination (it must take the event\'s source)')
    .action(async (options: RedeliverOptions) => {
      const { config } = loadConfigFile(resolveConfigPath(options.config));
      const result = await withOperatorContext(config, (context) =>
        redeliverEvent(context, { eventId: options.event, destination: options.destination }),
      );
      if (options.json) {
        printJson(result);
        return;
      }
      for (const delivery of result.redelivered) {
        process.stdout.write(`queued ${result.eventId} -> ${delivery.destination} (delivery ${delivery.id})\n`);
      }
      for (const destination of result.inFlight) {
        process.stdout.write(`skipped ${result.eventId} -> ${destination}: an attempt is in flight right now\n`);
      }
    });
}
