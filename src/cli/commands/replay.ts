import type { Command } from 'commander';
import type { ReplayRequest } from '../../operator/replay.js';
import { cliContext } from '../context.js';
import { printJson } from '../format.js';
import { withCommonOptions, type GlobalOptions } from './common-options.js';

interface ReplayCommandOptions extends GlobalOptions {
  id?: string[];
  destination?: string;
  all?: boolean;
  since?: string;
  dryRun?: boolean;
}

export function registerReplay(program: Command): void {
  withCommonOptions(program.command('replay'))
    .description('move dead deliveries back to pending with a fresh attempt budget (same event id, same webhook-id)')
    .option('--id <ids...>', 'delivery ids as printed by `dlq list` (repeat the flag or list several)')
    .option('--destination <name>', 'every dead delivery of this destination')
    .option('--all', 'every dead delivery')
    .option('--since <duration|time>', 'only those that died within this long ("12h") or since this ISO-8601 time')
    .option('--dry-run', 'only count what would be replayed')
    .action(runReplay);
}

/** `replay`: moves matching dead deliveries back to pending with a fresh attempt budget. */
async function runReplay(options: ReplayCommandOptions, command: Command): Promise<void> {
  const { parseSince } = await import('../../operator/since.js');
  const { checkReplayUsage, replayDeadLetters } = await import('../../operator/replay.js');
  const request: ReplayRequest = {
    ids: options.id?.flatMap((value) => value.split(',')),
    destination: options.destination,
    all: options.all,
    since: options.since === undefined ? undefined : parseSince(options.since, Date.now()),
    dryRun: options.dryRun === true,
  };
  checkReplayUsage(request);
  const progress = !options.json && process.stderr.isTTY ? createProgress() : null;
  const result = await cliContext(command).withStore((context) =>
    replayDeadLetters(context, request, { onProgress: progress?.update }),
  );
  progress?.done();
  if (options.json) {
    printJson(result);
    return;
  }
  if (result.dryRun) {
    process.stdout.write(`would replay ${result.matched} dead ${plural(result.matched)} (dry run: nothing changed)\n`);
    return;
  }
  const skipped = result.matched - result.replayed;
  process.stdout.write(
    `replayed ${result.replayed} of ${result.matched} dead ${plural(result.matched)}` +
      (skipped > 0 ? ` (${skipped} left dead: their destination is not in the config, or they changed meanwhile)` : '') +
      (result.replayed > 0 ? '; a running serve picks them up within about a second' : '') +
      '\n',
  );
}

function plural(count: number): string {
  return count === 1 ? 'delivery' : 'deliveries';
}

/** A one-line counter on the terminal (stderr), redrawn at most every 100 ms. */
function createProgress() {
  let last = 0;
  let shown = false;
  return {
    update: (replayed: number, total: number) => {
      const now = Date.now();
      if (now - last < 100 && replayed < total) return;
      last = now;
      shown = true;
      process.stderr.write(`\rreplaying: ${replayed}/${total}`);
    },
    done: () => {
      if (shown) process.stderr.write('\n');
    },
  };
}
