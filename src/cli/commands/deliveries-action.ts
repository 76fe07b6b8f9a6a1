import { loadOperatorConfig } from '../load-operator-config.js';
import { HookrelayError } from '../../errors.js';
import { listDeliveries, listDeliveriesOfEvent, showDelivery, type DeliveryDetail } from '../../operator/deliveries.js';
import { resolveEventId } from '../../operator/find-event.js';
import { assertKnownNames } from '../../operator/known-names.js';
import { withOperatorContext } from '../../operator/open-context.js';
import { parseSince } from '../../operator/since.js';
import { formatTable, printJson } from '../format.js';
import type { GlobalOptions } from './common-options.js';

export interface DeliveriesListOptions extends GlobalOptions {
  status?: string;
  destination?: string;
  source?: string;
  event?: string;
  since?: string;
  limit: string;
  cursor?: string;
}

/** `deliveries show ID`: one delivery with its attempt log. */
export async function runDeliveriesShow(id: string, options: GlobalOptions): Promise<void> {
  const config = loadOperatorConfig(options.config);
  const detail = await withOperatorContext(config, (context) => showDelivery(context, id));
  if (options.json) printJson(detail);
  else process.stdout.write(renderDetail(detail));
}

/** `deliveries list`: deliveries newest first, as a table or JSON lines. */
export async function runDeliveriesList(options: DeliveriesListOptions): Promise<void> {
  if (!/^\d+$/.test(options.limit)) throw new HookrelayError('HOOKRELAY_USAGE', '--limit: expected a positive integer');
  const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
  const config = loadOperatorConfig(options.config);
  const page = await withOperatorContext(config, async (context) => {
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
