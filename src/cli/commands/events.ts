import type { Command } from 'commander';
import { decodeUtf8, EVENT_MATCH_DEFAULT, getEventDetail, matchEvents, readEventBody, type EventDetail } from '../../operator/events.js';
import { cliContext } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { commandGroup, withCommonOptions, type GlobalOptions } from './common-options.js';
import { parseLimit } from './limit-option.js';

interface EventsSearchOptions extends GlobalOptions {
  limit: string;
}

interface EventsShowOptions extends GlobalOptions {
  body?: boolean;
}

export function registerEvents(program: Command): void {
  const events = commandGroup(
    program,
    'events',
    'find stored events by event id, run id or dedupe key',
    'events search QUERY, events show ID_OR_RUN_ID',
  );

  withCommonOptions(events.command('search'))
    .description('events whose id, run id or dedupe key equals or starts with QUERY, newest first (JSON lines with --json)')
    .argument('<query>', 'an event id, run id or dedupe key, or the start of one')
    .option('--limit <n>', 'at most this many', String(EVENT_MATCH_DEFAULT))
    .action(runEventsSearch);

  withCommonOptions(events.command('show'))
    .description('one event with its deliveries and their attempts (exit 1 when unknown)')
    .argument('<idOrRunId>', 'an event id, run id or dedupe key')
    .option('--body', 'print the body too')
    .action(runEventsShow);
}

/** `events search QUERY`: events whose id, run id or dedupe key equals or starts with QUERY. */
async function runEventsSearch(query: string, options: EventsSearchOptions, command: Command): Promise<void> {
  const limit = parseLimit(options.limit);
  const matches = await cliContext(command).withStore((context) => matchEvents(context, query, limit));
  if (options.json) {
    for (const match of matches) printJson(match);
    return;
  }
  if (matches.length === 0) {
    process.stdout.write(`no event whose id, run id or dedupe key starts with "${query}"\n`);
    return;
  }
  const deliveries = (statuses: Record<string, string>) =>
    Object.entries(statuses).map(([destination, status]) => `${destination}: ${status}`).join(', ') || '-';
  process.stdout.write(
    formatTable([
      ['id', 'source', 'dedupe key', 'received at', 'deliveries'],
      ...matches.map((m) => [m.id, m.source, m.dedupeKey, m.receivedAt, deliveries(m.deliveries)]),
    ]),
  );
}

/** `events show ID_OR_RUN_ID`: the event, its deliveries and their attempts; `--body` adds the whole body. */
async function runEventsShow(reference: string, options: EventsShowOptions, command: Command): Promise<void> {
  const { resolveEventId } = await import('../../operator/find-event.js');
  const { detail, body } = await cliContext(command).withStore(async (context) => {
    const id = await resolveEventId(context, reference);
    const found = await getEventDetail(context, id);
    return { detail: found, body: options.body ? await readEventBody(context, id) : null };
  });
  const { body: _preview, bodyEncoding: _encoding, bodyTruncated: _truncated, ...event } = detail.event;
  if (options.json) {
    const text = body === null ? null : decodeUtf8(body);
    printJson({
      event: body === null ? event : { ...event, body: text ?? body.toString('base64'), bodyEncoding: text === null ? 'base64' : 'utf8' },
      deliveries: detail.deliveries,
    });
    return;
  }
  process.stdout.write(renderEvent(event, detail.deliveries));
  if (body !== null) {
    process.stdout.write('\nbody:\n');
    process.stdout.write(body);
    if (body.length > 0 && body[body.length - 1] !== 0x0a) process.stdout.write('\n');
  }
}

function renderEvent(event: Omit<EventDetail['event'], 'body' | 'bodyEncoding' | 'bodyTruncated'>, deliveries: EventDetail['deliveries']): string {
  const head = formatTable([
    ['event:', event.id],
    ['source:', event.source],
    ['dedupe key:', event.dedupeKey],
    ['received at:', event.receivedAt],
    ['body:', `${event.size} bytes, ${event.contentType} (--body prints it)`],
  ]);
  if (deliveries.length === 0) return `${head}\nno deliveries (no destination takes source ${event.source})\n`;
  const rows = [
    ['delivery', 'destination', 'status', 'attempts', 'next attempt at', 'last status', 'last error'],
    ...deliveries.map((d) => [
      d.id, d.destination, d.status, String(d.attempts), d.nextAttemptAt ?? '-', d.lastStatus === null ? '-' : String(d.lastStatus),
      (d.lastError ?? '-').replace(/\s+/g, ' ').slice(0, 60),
    ]),
  ];
  const attempts = deliveries.flatMap((d) =>
    d.attemptLog.map((a) => [d.destination, String(a.number), a.startedAt, String(a.durationMs), a.outcome, a.statusCode === null ? '-' : String(a.statusCode), a.error ?? a.errorCode ?? '-']),
  );
  const log = attempts.length === 0 ? 'no attempts yet\n' : formatTable([['destination', '#', 'started at', 'ms', 'outcome', 'status', 'error'], ...attempts]);
  return `${head}\n${formatTable(rows)}\nattempts:\n${log}`;
}
