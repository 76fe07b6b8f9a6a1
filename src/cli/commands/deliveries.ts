import type { Command } from 'commander';
import { loadConfigFile, resolveConfigPath } from '../../config/load.js';
import { HookrelayError } from '../../errors.js';
import { DELIVERY_PAGE_MAX, listDeliveries, showDelivery, type DeliveryDetail } from '../../operator/deliveries.js';
import { withOperatorContext } from '../../operator/open-context.js';
import { parseSince } from '../../operator/since.js';
import { formatTable } from '../format.js';
import { printJson, withCommonOptions, type GlobalOptions } from '../program.js';

interface ListOptions extends GlobalOptions {
  status?: string;
  destination?: string;
  source?: string;
  since?: string;
  limit: string;
}

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
    .action(async (id: string, options: GlobalOptions) => {
      const { config } = loadConfigFile(resolveConfigPath(options.config));
      const detail = await withOperatorContext(config, (context) => showDelivery(context, id));
      if (options.json) printJson(detail);
      else process.stdout.write(renderDetail(detail));
    });

  withCommonOptions(deliveries.command('list'))
    .description('deliveries newest first (JSON lines with --json)')
    .option('--status <status>', 'pending, in_flight, delivered or dead')
    .option('--destination <name>', 'only this destination')
    .option('--source <name>', 'only this source')
    .option('--since <duration|time>', 'only those that changed state within this long or since this ISO-8601 time')
    .option('--limit <n>', `at most this many (1-${DELIVERY_PAGE_MAX})`, '50')
    .action(async (options: ListOptions) => {
      if (!/^\d+$/.test(options.limit)) throw new HookrelayError('HOOKRELAY_USAGE', '--limit: expected a positive integer');
      const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
      const { config } = loadConfigFile(resolveConfigPath(options.config));
      const page = await withOperatorContext(config, (context) =>
        listDeliveries(context, {
          status: options.status,
          destination: options.destination,
          source: options.source,
          since,
          limit: Number(options.limit),
        }),
      );
      if (options.json) {
        for (const delivery of page.deliveries) printJson(delivery);
        return;
      }
      if (page.deliveries.length === 0) {
        process.stdout.write('no deliveries\n');
        return;
      }
      process.stdout.write(
        formatTable([
          ['id', 'event', 'destination', 'status', 'attempts', 'last status', 'updated at'],
          ...page.deliveries.map((d) => [
            d.id, d.eventId, d.destination, d.status, String(d.attempts), d.lastStatus === null ? '-' : String(d.lastStatus), d.updatedAt,
          ]),
        ]),
      );
    });
}

function renderDetail({ delivery, attempts }: DeliveryDetail): string {
  const fields: [string, string | number | null][] = [
    ['delivery', delivery.id],
    ['event', delivery.eventId],
    ['destination', delivery.destination],
    ['source', delivery.source],
    ['dedupe key', delivery.dedupeKey],
    ['status', delivery.status],
    ['attempts', `${delivery.attempts} (${delivery.budgetUsed} counted since created or last replayed)`],
    ['next attempt at', delivery.nextAttemptAt],
    ['last status', delivery.lastStatus],
    ['last error', delivery.lastError],
    ['created at', delivery.createdAt],
    ['delivered at', delivery.deliveredAt],
    ['dead at', delivery.deadAt],
  ];
  const head = formatTable(fields.map(([name, value]) => [`${name}:`, value === null ? '-' : String(value)]));
  if (attempts.length === 0) return `${head}\nno attempts yet\n`;
  const log = formatTable([
    ['#', 'started at', 'ms', 'outcome', 'status', 'error', 'response'],
    ...attempts.map((a) => [
      String(a.number),
      a.startedAt,
      String(a.durationMs),
      a.outcome,
      a.statusCode === null ? '-' : String(a.statusCode),
      a.error ?? a.errorCode ?? '-',
      (a.responseSnippet ?? '').replace(/\s+/g, ' ').slice(0, 60),
    ]),
  ]);
  return `${head}\nattempt log:\n${log}`;
}
