import { loadOperatorConfig } from '../load-operator-config.js';
import { withOperatorContext } from '../../operator/open-context.js';
import { redeliverEvent } from '../../operator/redeliver.js';
import { printJson } from '../format.js';
import type { GlobalOptions } from './common-options.js';

export interface RedeliverOptions extends GlobalOptions {
  event: string;
  destination?: string;
}

/** `redeliver`: queues a stored event again for every destination of its source, or one. */
export async function runRedeliver(options: RedeliverOptions): Promise<void> {
  const config = loadOperatorConfig(options.config);
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
}
