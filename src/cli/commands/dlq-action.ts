import { loadOperatorConfig } from '../load-operator-config.js';
import { eachDeadLetter } from '../../operator/dead-letters.js';
import { assertKnownNames } from '../../operator/known-names.js';
import { withOperatorContext } from '../../operator/open-context.js';
import { parseSince } from '../../operator/since.js';
import type { DeadLetterView } from '../../operator/views.js';
import { formatTable, printJson } from '../format.js';
import type { GlobalOptions } from './common-options.js';
import { parseLimit } from './limit-option.js';

export interface DlqListOptions extends GlobalOptions {
  destination?: string;
  source?: string;
  since?: string;
  limit?: string;
}

/** Longest last error shown in the table; `--json` and `deliveries show` have it whole. */
const ERROR_COLUMN = 48;

/** `dlq list`: dead deliveries, newest first, as a table or JSON lines. */
export async function runDlqList(options: DlqListOptions): Promise<void> {
  const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
  const limit = options.limit === undefined ? Infinity : parseLimit(options.limit);
  const config = loadOperatorConfig(options.config);
  await withOperatorContext(config, async (context) => {
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
