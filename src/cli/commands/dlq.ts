import type { Command } from 'commander';
import type { DeadLetterView } from '../../operator/views.js';
import { cliContext } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { commandGroup, withCommonOptions, type GlobalOptions } from './common-options.js';
import { parseLimit } from './limit-option.js';

interface DlqListOptions extends GlobalOptions {
  destination?: string;
  source?: string;
  since?: string;
  limit?: string;
}

export function registerDlq(program: Command): void {
  const dlq = commandGroup(program, 'dlq', 'inspect dead letters (deliveries whose attempt budget is spent)', 'dlq list');
  withCommonOptions(dlq.command('list'))
    .description('list dead deliveries, newest first (JSON lines with --json)')
    .option('--destination <name>', 'only this destination')
    .option('--source <name>', 'only this source')
    .option('--since <duration|time>', 'only those that died within this long ("12h", "2d") or since this ISO-8601 time')
    .option('--limit <n>', 'at most this many (newest first)')
    .action(listDeadLetters);
}

/** `dlq list`: dead deliveries, newest first, as a table or JSON lines. */
async function listDeadLetters(options: DlqListOptions, command: Command): Promise<void> {
  const { parseSince } = await import('../../operator/since.js');
  const { assertKnownNames } = await import('../../operator/known-names.js');
  const { eachDeadLetter } = await import('../../operator/dead-letters.js');
  const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
  const limit = options.limit === undefined ? Infinity : parseLimit(options.limit);
  await cliContext(command).withStore(async (context) => {
    await assertKnownNames(context, { destination: options.destination, source: options.source });
    const filter = { destination: options.destination, source: options.source, since };
    const rows: DeadLetterView[] = [];
    for await (const deadLetter of eachDeadLetter(context, filter)) {
      if (rows.length >= limit) break;
      if (options.json) printJson(deadLetter);
      rows.push(deadLetter);
    }
    if (!options.json) process.stdout.write(renderTable(rows, limit));
  });
}

/** Longest last error shown in the table; `--json` and `deliveries show` have it whole. */
const ERROR_COLUMN = 48;

function renderTable(rows: readonly DeadLetterView[], limit: number): string {
  if (rows.length === 0) return 'no dead letters\n';
  const table = formatTable([
    ['id', 'destination', 'source', 'dedupe key', 'attempts', 'last status', 'last error', 'dead at'],
    ...rows.map((row) => [
      row.id,
      row.destination,
      row.source,
      row.dedupeKey,
      String(row.attempts),
      row.lastStatus === null ? '-' : String(row.lastStatus),
      shorten(row.lastError ?? '-', ERROR_COLUMN),
      row.deadAt,
    ]),
  ]);
  const byDestination = new Map<string, number>();
  for (const row of rows) byDestination.set(row.destination, (byDestination.get(row.destination) ?? 0) + 1);
  const summary = [...byDestination].map(([name, count]) => `${name}: ${count}`).join(', ');
  return `${table}\n${rows.length} dead ${rows.length === 1 ? 'delivery' : 'deliveries'} (${summary})${rows.length === limit ? ', --limit reached' : ''}.\n` +
    'Replay with: hookrelay replay --destination NAME (or --id ID..., --all); add --dry-run to only count.\n';
}

function shorten(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
