import { loadOperatorConfig } from '../load-operator-config.js';
import { openStore } from '../../store/open-store.js';
import { formatTable, printJson } from '../format.js';
import type { GlobalOptions } from './common-options.js';

/** `stats`: counts events and deliveries by status and destination. */
export async function runStats(options: GlobalOptions): Promise<void> {
  const config = loadOperatorConfig(options.config);
  const store = await openStore(config.storage, { client: 'cli', lock: false, thread: 'inline', mustExist: true });
  try {
    const stats = await store.stats(config.destinations.map((destination) => destination.name));
    const output = {
      events: stats.events,
      deliveries: {
        pending: stats.deliveries.pending,
        inFlight: stats.deliveries.in_flight,
        delivered: stats.deliveries.delivered,
        dead: stats.deliveries.dead,
      },
      destinations: Object.fromEntries(
        Object.entries(stats.destinations).map(([name, counts]) => [
          name,
          { pending: counts.pending, inFlight: counts.in_flight, delivered: counts.delivered, dead: counts.dead },
        ]),
      ),
    };
    if (options.json) {
      printJson(output);
      return;
    }
    const rows = [
      ['destination', 'pending', 'in flight', 'delivered', 'dead'],
      ...Object.entries(output.destinations).map(([name, c]) => [name, c.pending, c.inFlight, c.delivered, c.dead].map(String)),
      ['(all)', ...[output.deliveries.pending, output.deliveries.inFlight, output.deliveries.delivered, output.deliveries.dead].map(String)],
    ];
    process.stdout.write(`events: ${output.events}\n${formatTable(rows)}`);
  } finally {
    await store.close();
  }
}
