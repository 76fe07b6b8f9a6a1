import type { Command } from 'commander';
import { HookrelayError, isHookrelayError } from '../../errors.js';
import type { RunView } from '../../operator/runs.js';
import { cliContext } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { commandGroup, withCommonOptions, type GlobalOptions } from './common-options.js';

interface RunsListOptions extends GlobalOptions {
  status?: string;
}

export function registerRuns(program: Command): void {
  const runs = commandGroup(
    program,
    'runs',
    'tracked Cerebrium runs: which callbacks came, which are overdue or lost',
    'runs list, runs show RUN_ID',
  );

  withCommonOptions(runs.command('list'))
    .description('runs newest first (JSON lines with --json)')
    .option('--status <status>', 'submitted, completed, overdue or lost')
    .action(runRunsList);

  withCommonOptions(runs.command('show'))
    .description('one run (exit 1 when unknown)')
    .argument('<runId>', "Cerebrium's run id")
    .action(runRunsShow);
}

/** `runs list`: runs newest first, as a table or JSON lines. */
async function runRunsList(options: RunsListOptions, command: Command): Promise<void> {
  const { eachRun, parseRunStatus } = await import('../../operator/runs.js');
  let status;
  try {
    status = parseRunStatus(options.status);
  } catch (error) {
    // A bad --status is bad usage (exit 2).
    throw isHookrelayError(error) ? new HookrelayError('HOOKRELAY_USAGE', `--${error.message}`) : error;
  }
  await cliContext(command).withStore(async (context) => {
    if (options.json) {
      for await (const run of eachRun(context, { status })) printJson(run);
      return;
    }
    const rows: RunView[] = [];
    for await (const run of eachRun(context, { status })) rows.push(run);
    process.stdout.write(renderTable(rows));
  });
}

/** `runs show RUN_ID`: one run; exit 1 when unknown. */
async function runRunsShow(runId: string, options: GlobalOptions, command: Command): Promise<void> {
  const { showRun } = await import('../../operator/runs.js');
  await cliContext(command).withStore(async (context) => {
    const run = await showRun(context, runId);
    if (options.json) {
      printJson(run);
      return;
    }
    const lines = [
      ['run id', run.runId],
      ['status', run.status],
      ['project', run.project ?? '-'],
      ['app', run.app ?? '-'],
      ['submitted at', run.submittedAt],
      ['completed at', run.completedAt ?? '-'],
      ['duration', run.durationMs === null ? '-' : `${run.durationMs} ms`],
      ['event', run.eventId ?? '-'],
      ['metadata', run.metadata === null ? '-' : JSON.stringify(run.metadata)],
    ];
    process.stdout.write(formatTable(lines));
  });
}

function renderTable(rows: readonly RunView[]): string {
  if (rows.length === 0) return 'no runs\n';
  const table = formatTable([
    ['run id', 'status', 'app', 'submitted at', 'duration', 'metadata'],
    ...rows.map((run) => [
      run.runId,
      run.status,
      run.app ?? '-',
      run.submittedAt,
      run.durationMs === null ? '-' : `${run.durationMs} ms`,
      run.metadata === null ? '-' : shorten(JSON.stringify(run.metadata), 48),
    ]),
  ]);
  const counts = new Map<string, number>();
  for (const run of rows) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  const summary = [...counts].map(([status, count]) => `${status}: ${count}`).join(', ');
  return `${table}\n${rows.length} run${rows.length === 1 ? '' : 's'} (${summary}).\n`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
