import type { Command } from 'commander';
import { HookrelayError } from '../../errors.js';
import { DELIVERY_PAGE_MAX, listDeliveries, listDeliveriesOfEvent, showDelivery, type DeliveryDetail } from '../../operator/deliveries.js';
import { cliContext } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { commandGroup, withCommonOptions, type GlobalOptions } from './common-options.js';

interface DeliveriesListOptions extends GlobalOptions {
  status?: string;
  destination?: string;
  source?: string;
  event?: string;
  since?: string;
  limit: string;
  cursor?: string;
}

export function registerDeliveries(program: Command): void {
  const deliveries = commandGroup(program, 'deliveries', 'inspect deliveries and their attempt logs', 'deliveries show ID, deliveries list');

  withCommonOptions(deliveries.command('show'))
    .description('one delivery with its attempt log')
    .argument('<id>', 'delivery id (as printed by dlq list)')
    .action(runDeliveriesShow);

  withCommonOptions(deliveries.command('list'))
    .description('deliveries newest first (JSON lines with --json)')
    .option('--status <status>', 'pending, in_flight, delivered or dead')
    .option('--destination <name>', 'only this destination')
    .option('--source <name>', 'only this source')
    .option('--event <idOrRunId>', "only this event's deliveries (an event id, run id or dedupe key)")
    .option('--since <duration|time>', 'only those that changed state within this long or since this ISO-8601 time')
    .option('--limit <n>', `at most this many (1-${DELIVERY_PAGE_MAX})`, '50')
    .option('--cursor <cursor>', 'the next (older) page: the cursor the previous page printed')
    .action(runDeliveriesList);
}

/** `deliveries show ID`: one delivery with its attempt log. */
async function runDeliveriesShow(id: string, options: GlobalOptions, command: Command): Promise<void> {
  const detail = await cliContext(command).withStore((context) => showDelivery(context, id));
  if (options.json) printJson(detail);
  else process.stdout.write(renderDetail(detail));
}

/** `deliveries list`: deliveries newest first, as a table or JSON lines. */
async function runDeliveriesList(options: DeliveriesListOptions, command: Command): Promise<void> {
  if (!/^\d+$/.test(options.limit)) throw new HookrelayError('HOOKRELAY_USAGE', '--limit: expected a positive integer');
  const { parseSince } = await import('../../operator/since.js');
  const { assertKnownNames } = await import('../../operator/known-names.js');
  const { resolveEventId } = await import('../../operator/find-event.js');
  const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
  const page = await cliContext(command).withStore(async (context) => {
    await assertKnownNames(context, { destination: options.destination, source: options.source });
    const request = { status: options.status, destination: options.destination, source: options.source, since, limit: Number(options.limit) };
    if (options.event === undefined) return listDeliveries(context, { ...request, cursor: options.cursor });
    return listDeliveriesOfEvent(context, await resolveEventId(context, options.event), request);
  });
  // The next page's command, on stderr with --json so stdout stays one delivery per line.
  const next = page.nextCursor === null ? '' : `more: the same command with --cursor ${page.nextCursor}\n`;
  if (options.json) {
    for (const delivery of page.deliveries) printJson(delivery);
    process.stderr.write(next);
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
    ]) + next,
  );
}

function renderDetail({ delivery, attempts, fellBackTo }: DeliveryDetail): string {
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
    ['fallback for', delivery.fallbackFor],
    ['fell back to', fellBackTo],
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
