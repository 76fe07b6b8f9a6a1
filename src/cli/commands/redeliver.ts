import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { printJson } from '../format.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

interface RedeliverOptions extends GlobalOptions {
  event: string;
  destination?: string;
}

export function registerRedeliver(program: Command): void {
  withCommonOptions(program.command('redeliver'))
    .description('send a stored event again (same webhook-id), to every destination of its source or to one; an unknown event or destination exits 1')
    .requiredOption('--event <idOrRunId>', 'the event id (the webhook-id consumers saw), or its run id / dedupe key')
    .option('--destination <name>', 'only this destination (it must take the event\'s source)')
    .action(runRedeliver);
}

/** `redeliver`: queues a stored event again for every destination of its source, or one. */
async function runRedeliver(options: RedeliverOptions, command: Command): Promise<void> {
  const { redeliverEvent } = await import('../../operator/redeliver.js');
  const result = await cliContext(command).withStore((context) =>
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
}
